"""Rewrites MediaPipe's custom ``Convolution2DTransposeBias`` into builtin ops XNNPACK runs.

MediaPipe's selfie segmentation models end in that custom op (a 2x2, stride 2 transposed
convolution with bias). LiteRT runs it with its own slow kernel outside the XNNPACK delegate,
which also splits the graph: about 1.3 ms of the landscape model's 3.8 ms on a 2-core x86 VM.
A transposed convolution whose kernel equals its stride is, exactly, a 1x1 convolution to
``stride * stride * out_channels`` channels followed by ``DEPTH_TO_SPACE``: both are builtin
ops that XNNPACK runs. The checked file on disk stays the one from the mediapipe wheel, and the
answer is the same (tested against the original model on real photos). The rewrite (0.1 s per
model through the flatbuffer object API, most of a run's start-up) is kept beside the model,
named by the original's checksum, so later runs only read it (``builtin_ops_content``).
"""

from __future__ import annotations

import hashlib
import os
import struct
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

CUSTOM_OP = b"Convolution2DTransposeBias"
REWRITE_VERSION = 1
"""Part of the kept rewrite's name: raise it when the rewrite changes, so old copies are not used."""


def builtin_ops_content(path: Path) -> bytes:
    """The model at ``path`` as ``without_custom_transpose_conv`` gives it, read from the copy kept
    beside it when there is one (``<stem>.builtin-v<version>-<sha256 prefix>.tflite``), else rewritten
    and kept there. A folder that cannot be written only costs the rewrite on every load."""
    content = path.read_bytes()
    if CUSTOM_OP not in content:
        return content
    digest = hashlib.sha256(content).hexdigest()[:16]
    kept = path.with_name(f"{path.stem}.builtin-v{REWRITE_VERSION}-{digest}.tflite")
    try:
        return kept.read_bytes()
    except OSError:
        pass
    rewritten = without_custom_transpose_conv(content)
    if rewritten is not content:
        try:  # written whole under a temporary name, then renamed: a crash never leaves half a model
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=f".{kept.name}.", delete=False) as tmp:
                tmp.write(rewritten)
            os.replace(tmp.name, kept)
        except OSError:
            pass
    return rewritten


def without_custom_transpose_conv(content: bytes) -> bytes:
    """``content`` (a .tflite flatbuffer) with every kernel == stride ``Convolution2DTransposeBias``
    replaced by ``CONV_2D`` (1x1) + ``DEPTH_TO_SPACE``; unchanged when it has none (or the LiteRT
    flatbuffer tools are not installed, as with ``tflite-runtime``)."""
    if CUSTOM_OP not in content:
        return content
    try:
        from ai_edge_litert import schema_py_generated as fb
        from ai_edge_litert.tools import flatbuffer_utils
    except ImportError:
        return content
    model = flatbuffer_utils.read_model_from_bytearray(bytearray(content))
    changed = [_rewrite_graph(fb, model, graph) for graph in model.subgraphs]
    if not any(changed):
        return content
    _drop_unused_codes(model)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def _rewrite_graph(fb: Any, model: Any, graph: Any) -> bool:
    """Replaces the custom op in one subgraph (and the ops only it read); whether anything changed."""
    changed = False
    for index in reversed(range(len(graph.operators))):
        op = graph.operators[index]
        if model.operatorCodes[op.opcodeIndex].customCode == CUSTOM_OP:
            replacement = _as_conv_and_depth_to_space(fb, model, graph, op)
            if replacement is not None:
                graph.operators[index:index + 1] = replacement
                changed = True
    if changed:
        _drop_unused(graph)
    return changed


def _as_conv_and_depth_to_space(fb: Any, model: Any, graph: Any, op: Any) -> list[Any] | None:
    """The two builtin ops computing ``op`` exactly, or None when its kernel is not its stride."""
    # the options: padding (the same either way when kernel == stride), stride width, stride height
    _, stride_w, stride_h = struct.unpack("<3i", bytes(op.customOptions)[:12])
    source, weights, bias = op.inputs
    w = _constant(fb, model, graph, weights)  # (out_channels, kh, kw, in_channels)
    b = _constant(fb, model, graph, bias)
    if w is None or b is None or w.ndim != 4 or not (w.shape[1] == w.shape[2] == stride_h == stride_w):
        return None
    out_channels, _, _, in_channels = w.shape
    s = stride_w
    # channel (dy * s + dx) * out_channels + o of the 1x1 convolution is output pixel (dy, dx), channel o
    conv_w = w.transpose(1, 2, 0, 3).reshape(s * s * out_channels, 1, 1, in_channels)
    conv_b = np.tile(b, s * s)
    out = graph.tensors[op.outputs[0]]
    middle = _tensor(fb, model, graph, [1, out.shape[1] // s, out.shape[2] // s, s * s * out_channels], None,
                     b"transpose_conv_as_1x1")
    conv = fb.OperatorT()
    conv.opcodeIndex = _opcode(fb, model, fb.BuiltinOperator.CONV_2D)
    conv.inputs = [source, _tensor(fb, model, graph, list(conv_w.shape), conv_w, b"transpose_conv_weights"),
                   _tensor(fb, model, graph, list(conv_b.shape), conv_b, b"transpose_conv_bias")]
    conv.outputs = [middle]
    conv.builtinOptionsType = fb.BuiltinOptions.Conv2DOptions
    conv.builtinOptions = fb.Conv2DOptionsT(padding=fb.Padding.VALID, strideW=1, strideH=1,
                                            dilationWFactor=1, dilationHFactor=1)
    spread = fb.OperatorT()
    spread.opcodeIndex = _opcode(fb, model, fb.BuiltinOperator.DEPTH_TO_SPACE)
    spread.inputs, spread.outputs = [middle], list(op.outputs)
    spread.builtinOptionsType = fb.BuiltinOptions.DepthToSpaceOptions
    spread.builtinOptions = fb.DepthToSpaceOptionsT(blockSize=s)
    return [conv, spread]


def _constant(fb: Any, model: Any, graph: Any, tensor: int) -> np.ndarray | None:
    """The float32 value of a constant tensor, or of a ``DEQUANTIZE`` of a float16 constant
    (how MediaPipe stores weights); None when it is computed."""
    for op in graph.operators:
        if tensor in op.outputs:
            if _builtin(model.operatorCodes[op.opcodeIndex]) != fb.BuiltinOperator.DEQUANTIZE:
                return None
            tensor = op.inputs[0]
            break
    t = graph.tensors[tensor]
    data = model.buffers[t.buffer].data
    types = {fb.TensorType.FLOAT16: np.float16, fb.TensorType.FLOAT32: np.float32}
    if data is None or len(data) == 0 or t.type not in types:
        return None
    return np.frombuffer(bytes(data), types[t.type]).reshape(t.shape).astype(np.float32)


def _drop_unused(graph: Any) -> None:
    """Removes operators none of whose outputs is read (the replaced op's weight dequantizing)."""
    while True:
        read = {i for op in graph.operators for i in op.inputs} | set(graph.outputs)
        kept = [op for op in graph.operators if any(o in read for o in op.outputs)]
        if len(kept) == len(graph.operators):
            return
        graph.operators = kept


def _drop_unused_codes(model: Any) -> None:
    """Removes operator codes no operator uses (the custom op's), renumbering the rest."""
    used = sorted({op.opcodeIndex for graph in model.subgraphs for op in graph.operators})
    new_index = {old: new for new, old in enumerate(used)}
    model.operatorCodes = [model.operatorCodes[i] for i in used]
    for graph in model.subgraphs:
        for op in graph.operators:
            op.opcodeIndex = new_index[op.opcodeIndex]


def _tensor(fb: Any, model: Any, graph: Any, shape: list[int], value: np.ndarray | None, name: bytes) -> int:
    """A new float32 tensor (a constant when ``value`` is given); returns its index."""
    buffer = fb.BufferT()
    if value is not None:
        buffer.data = np.ascontiguousarray(value, np.float32).tobytes()
    model.buffers.append(buffer)
    t = fb.TensorT()
    t.shape, t.type, t.buffer, t.name = shape, fb.TensorType.FLOAT32, len(model.buffers) - 1, name
    graph.tensors.append(t)
    return len(graph.tensors) - 1


def _opcode(fb: Any, model: Any, builtin: int) -> int:
    """The index of ``builtin``'s operator code, added when the model has none."""
    for i, code in enumerate(model.operatorCodes):
        if _builtin(code) == builtin and code.customCode is None:
            return i
    code = fb.OperatorCodeT()
    code.builtinCode, code.deprecatedBuiltinCode, code.version = builtin, min(builtin, 127), 1
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def _builtin(code: Any) -> int:
    """An operator code's builtin op (models from older converters keep it in the deprecated field only)."""
    from ai_edge_litert.tools.flatbuffer_utils import get_builtin_code_from_operator_code

    return get_builtin_code_from_operator_code(code)
