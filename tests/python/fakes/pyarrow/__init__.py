"""Fake pyarrow: Table.from_pylist keeps the rows; parquet.write_table writes them as JSON between
Parquet's magic bytes (enough to test that `verity export` hands the right rows to pyarrow)."""


class Table:
    def __init__(self, rows):
        self.rows = rows
        self.num_rows = len(rows)

    @staticmethod
    def from_pylist(rows):
        return Table(list(rows))
