"""inspect's analysis and report.md stay linear in the design's size.

The output-cone analysis once kept a set of nets per neuron (about 230 KB a neuron on a
fp32 dot product): ``generate linear --in 64 --accum fp32`` ran out of memory. These tests
check the cones against a plain per-output traversal on small netlists, and the memory
that :func:`spikegate.hdl.inspect.analyze` plus ``report.md`` take on a netlist of a few hundred
thousand neurons whose cones are wide (every output reaches most of the netlist), measured
in a child process that also has an address-space limit, so a regression fails instead of
exhausting the machine.
"""

import json
import subprocess
import sys
import textwrap
from collections import Counter

import pytest

from spikegate.gen.netlist import CONST0, CONST1, Netlist, Neuron
from spikegate.hdl.inspect import bit_key, index_ranges, top_block, analyze


def layered_netlist(width, layers, *, outputs=None):
    """``layers`` layers of ``width`` neurons of fan-in 3 (plus a constant on some); neuron
    ``j`` reads neurons ``j, 2j, 2j+1`` (mod width) of the layer before, so a cone doubles
    its width every layer.
    Outputs: bus ``y`` (``outputs`` neurons of the last layer) and bus ``z`` (a constant,
    an input bit and an early neuron). Built directly, without the builder's hashing."""
    inputs = {"a": tuple(range(2, 2 + width)), "c": (2 + width,)}
    net = 3 + width
    prev = list(inputs["a"])
    neurons = []
    for lv in range(layers):
        block = f"part{lv * 4 // layers}/layer{lv}"
        cur = []
        for j in range(width):
            ins = tuple(dict.fromkeys((prev[j], prev[2 * j % width],
                                       prev[(2 * j + 1) % width])))
            weights = (1, 2, -1)[:len(ins)]
            if j % 5 == 0:
                ins, weights = ins + (CONST1,), weights + (1,)
            if lv == 0 and j == 0:
                ins, weights = ins + (inputs["c"][0],), weights + (1,)
            neurons.append(Neuron(f"n{lv}_{j}", net, ins, weights, 0, 2, block))
            cur.append(net)
            net += 1
        prev = cur
    y = tuple(prev[:outputs if outputs is not None else width])
    outs = {"y": y, "z": (CONST0, inputs["a"][1], neurons[width // 3].out)}
    return Netlist("layered", inputs, outs, neurons, net)


def reference_cones(netlist):
    """The cone of every output bit by a plain reverse traversal (sets; small netlists)."""
    by_out = {n.out: n for n in netlist.neurons}
    names = netlist.net_names()
    rows = []
    for bus, nets in netlist.outputs.items():
        for bit, net in enumerate(nets):
            seen, inputs, todo = set(), set(), [net]
            while todo:
                x = todo.pop()
                if x in by_out:
                    if x not in seen:
                        seen.add(x)
                        todo.extend(by_out[x].inputs)
                elif x not in (CONST0, CONST1):
                    inputs.add(x)
            blocks = Counter(top_block(by_out[o].block) for o in seen)
            rows.append({"bit": f"{bus}[{bit}]", "cone_neurons": len(seen),
                         "cone_blocks": dict(sorted(blocks.items(), key=lambda kv: (-kv[1], kv[0]))),
                         "inputs": index_ranges(sorted((names[i] for i in inputs), key=bit_key))})
    return rows


@pytest.mark.parametrize("width,layers,outputs", [(6, 5, None), (10, 7, None), (70, 3, 70),
                                                 (130, 2, 130)])
def test_cones_match_a_plain_traversal(width, layers, outputs):
    # 70 and 130 output bits: several 64-bit words of the bitset
    netlist = layered_netlist(width, layers, outputs=outputs)
    info = analyze(netlist, 2)
    got = [{k: o[k] for k in ("bit", "cone_neurons", "cone_blocks", "inputs")}
           for o in info["outputs"]]
    assert got == reference_cones(netlist)
    z = {o["bit"]: o for o in info["outputs"] if o["bit"].startswith("z")}
    assert z["z[0]"]["driver"] == "1'b0" and z["z[0]"]["inputs"] == [] \
        and z["z[0]"]["cone_neurons"] == 0 and z["z[0]"]["level"] == 0
    assert z["z[1]"]["driver"] == "a[1]" and z["z[1]"]["inputs"] == ["a[1]"]
    assert info["neurons_per_level"] == [width] * layers
    assert sum(r["neurons"] for r in info["per_stage"]) == width * layers


def test_netlist_without_outputs_or_neurons():
    empty = Netlist("empty", {"a": (2, 3)}, {"y": (3, CONST1)}, [], 4)
    info = analyze(empty)
    assert [o["inputs"] for o in info["outputs"]] == [["a[1]"], []]
    assert info["depth"] == 0 and info["neurons_per_level"] == []
    none = Netlist("none", {"a": (2,)}, {}, [Neuron("n", 3, (2,), (1,), 0, 1)], 4)
    assert analyze(none)["outputs"] == []


_CHILD = textwrap.dedent("""
    import json, resource, sys, tracemalloc
    limit = int(sys.argv[4])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    sys.path.insert(0, sys.argv[1])
    from test_scale import layered_netlist
    from spikegate.hdl.inspect import analyze, format_text
    from spikegate.hdl.report import report_markdown
    netlist = layered_netlist(int(sys.argv[2]), int(sys.argv[3]), outputs=100)
    report = {"top": "layered", "unit": "layered", "neurons": len(netlist.neurons),
              "synapses": 0, "depth": 0, "max_fanin": 0, "max_weight": 0,
              "latency_cycles": 0, "stages": 3, "ports": {}, "verilog": "layered.v"}
    tracemalloc.start()
    info = analyze(netlist, 3)
    md = report_markdown(report, info)
    text = format_text(info)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"neurons": info["neurons"], "synapses": info["synapses"],
                      "peak": peak, "cone": max(o["cone_neurons"] for o in info["outputs"]),
                      "md_lines": md.count("\\n"), "text_lines": text.count("\\n")}))
""")


def _measure(width, layers, limit=3 << 30):
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(__import__("pathlib").Path(
        __file__).parent), str(width), str(layers), str(limit)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, (f"analysis of a {width}x{layers} netlist failed (out of "
                                  f"memory?):\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.splitlines()[-1])


#: Peak traced memory of analyze + report.md + the inspect text, per neuron (bytes), the
#: netlist itself not counted. A set of nets per neuron costs hundreds of KB a neuron on
#: such netlists; the bitset analysis needs about 0.5 KB (net dictionaries, synapse arrays).
BYTES_PER_NEURON = 1000


def test_analysis_memory_is_linear_in_the_netlist():
    small = _measure(1000, 60)
    big = _measure(1000, 240)
    assert big["neurons"] == 240_000 and big["synapses"] > 2.5 * big["neurons"]
    # the cones really are wide: the old per-neuron sets would hold ~N^2 / 2 nets
    assert big["cone"] > 0.9 * big["neurons"]
    assert big["md_lines"] > 240 and big["text_lines"] > 100
    for m in (small, big):
        assert m["peak"] <= BYTES_PER_NEURON * m["neurons"], m
    # four times the neurons, about four times the memory (quadratic would be 16x)
    assert big["peak"] <= 6 * small["peak"], (small, big)
