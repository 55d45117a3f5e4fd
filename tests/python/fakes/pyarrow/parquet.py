import json


def write_table(table, where):
    with open(where, "wb") as f:
        f.write(b"PAR1" + json.dumps(table.rows).encode() + b"PAR1")


def read_table(where):
    from pyarrow import Table
    data = open(where, "rb").read()
    assert data[:4] == b"PAR1" and data[-4:] == b"PAR1"
    return Table(json.loads(data[4:-4]))
