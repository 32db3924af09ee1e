"""Make a VITS (piper) ONNX voice deterministic: its random noise becomes a fixed function of
position, so the same text and settings always give the same audio, bit for bit.

piper's models draw Gaussian noise with RandomNormalLike, which onnxruntime cannot seed per
call. Each such node is replaced by Box-Muller over a hash-like sequence of the element index
(the classic fract(sin(i * a) * 43758.5453)), which has mean 0, standard deviation 1 and no
correlation between neighbours; the voice sounds the same, and caches, tests and two machines
agree on the result.
"""

from __future__ import annotations

from typing import Any

NOISE_VERSION = "positional-1"


def replace_random_normal(model: Any) -> int:
    """Rewrite ``model`` (an onnx ModelProto) in place; return how many nodes were replaced."""
    graph = model.graph
    nodes: list[Any] = []
    replaced = 0
    for node in graph.node:
        if node.op_type == "RandomNormalLike":
            nodes += _positional_normal(node.input[0], node.output[0], f"/pf_noise{replaced}")
            replaced += 1
        else:
            nodes.append(node)
    del graph.node[:]
    graph.node.extend(nodes)
    return replaced


def _positional_normal(x: str, out: str, p: str) -> list[Any]:
    """Nodes computing ``out``: standard normal noise shaped like ``x``, from element indices."""
    from onnx import TensorProto, helper

    nodes: list[Any] = []

    def const(name: str, value: float) -> str:
        tensor = helper.make_tensor(f"{p}/{name}", TensorProto.FLOAT, [], [value])
        nodes.append(helper.make_node("Constant", [], [f"{p}/{name}"], value=tensor))
        return f"{p}/{name}"

    def op(kind: str, *inputs: str, out: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(kind, list(inputs), [f"{p}/{out}"], **attrs))
        return f"{p}/{out}"

    size = op("Cast", op("Size", x, out="size"), out="size_f", to=TensorProto.FLOAT)
    flat = op("Range", const("zero", 0.0), size, const("one", 1.0), out="flat")
    index = op("Reshape", flat, op("Shape", x, out="shape"), out="index")

    def uniform(tag: str, scale: float, shift: float) -> str:
        scaled = op("Mul", index, const(f"{tag}_scale", scale), out=f"{tag}_scaled")
        shifted = op("Add", scaled, const(f"{tag}_shift", shift), out=f"{tag}_shifted")
        big = op("Mul", op("Sin", shifted, out=f"{tag}_sin"), const(f"{tag}_big", 43758.5453),
                 out=f"{tag}_big_v")  # fmt: skip
        return op("Sub", big, op("Floor", big, out=f"{tag}_floor"), out=f"{tag}_u")

    u1 = op("Max", uniform("a", 12.9898, 0.5), const("eps", 1e-6), out="u1")
    u2 = uniform("b", 78.233, 1.5)
    log = op("Log", u1, out="log")
    radius = op("Sqrt", op("Mul", log, const("m2", -2.0), out="m2log"), out="radius")
    angle = op("Cos", op("Mul", u2, const("tau", 6.283185307179586), out="th"), out="cos")
    nodes.append(helper.make_node("Mul", [radius, angle], [out]))
    return nodes
