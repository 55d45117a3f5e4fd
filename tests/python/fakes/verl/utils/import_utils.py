import importlib.util
import sys


def load_extern_object(file_path, type_name):
    """As verl: import a file by path as module "custom_module" and take a name from it."""
    spec = importlib.util.spec_from_file_location("custom_module", file_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["custom_module"] = module
    spec.loader.exec_module(module)
    if not hasattr(module, type_name):
        raise AttributeError(f"Custom type '{type_name}' not found in '{file_path}'.")
    return getattr(module, type_name)
