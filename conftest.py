"""Test order for ``pytest -n 2``: the longest simulator runs first.

xdist hands tests out in collection order, so a multi-minute run collected last keeps one
worker busy while the other idles. The norms (about 2 minutes per simulator), the 16-bit
functions on Verilator, the transformer processor and the streamed layers go first;
everything else keeps its order.
"""

#: Modules whose tests start first, longest first.
FIRST = ("test_norm_cocotb.py", "test_function_cocotb.py", "test_transformer_cocotb.py",
         "test_linear_cocotb.py")


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return FIRST.index(name) if name in FIRST else len(FIRST)
    items.sort(key=rank)  # stable: the order within a rank is kept
