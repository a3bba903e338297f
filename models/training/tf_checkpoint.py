"""Reads TensorFlow tensor-bundle checkpoints (`<prefix>.index`, `<prefix>.data-*`) without TF.

The `.index` file is a LevelDB-format table (SSTable): data blocks of prefix-compressed
key/value entries with a restart array, an index block pointing at them, and a 48-byte
footer. The value under the empty key is a BundleHeaderProto; every other key is a variable
name whose value is a BundleEntryProto (dtype, shape, shard_id, offset, size, crc32c) locating
the tensor's raw little-endian bytes in the data shard. Only what TF 1.x `Saver` writes for
plain dense tensors is supported; anything else fails loudly rather than guessing.

Usage as a script: python tf_checkpoint.py PREFIX  (lists the variables)
"""

import struct
import sys

import numpy as np

TABLE_MAGIC = 0xDB4775248B80FB57
FOOTER_LEN = 48
BLOCK_TRAILER_LEN = 5  # 1 byte compression type + 4 bytes masked crc32c

# tensorflow/core/framework/types.proto DataType -> numpy little-endian dtype
DTYPES = {
    1: "<f4",   # DT_FLOAT
    2: "<f8",   # DT_DOUBLE
    3: "<i4",   # DT_INT32
    4: "u1",    # DT_UINT8
    5: "<i2",   # DT_INT16
    6: "i1",    # DT_INT8
    9: "<i8",   # DT_INT64
    10: "?",    # DT_BOOL
    17: "<u2",  # DT_UINT16
    19: "<f2",  # DT_HALF
    22: "<u4",  # DT_UINT32
    23: "<u8",  # DT_UINT64
}


class CheckpointError(ValueError):
    pass


# ---- crc32c (Castagnoli), as LevelDB and TF mask it ------------------------------------

def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc32c_table()


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    table = _CRC_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def unmask_crc(masked):
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


# ---- protobuf wire format (just enough for the two messages) ---------------------------

def _varint(buf, pos):
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise CheckpointError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def _fields(buf):
    """Yields (field_number, wire_type, value); length-delimited values come as bytes."""
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        field, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value = struct.unpack_from("<Q", buf, pos)[0]
            pos += 8
        elif wire == 2:
            n, pos = _varint(buf, pos)
            value = bytes(buf[pos:pos + n])
            pos += n
        elif wire == 5:
            value = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            raise CheckpointError(f"unsupported protobuf wire type {wire}")
        yield field, wire, value


def _signed64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def parse_shape(buf):
    """TensorShapeProto: repeated Dim dim = 2 {int64 size = 1}; bool unknown_rank = 3."""
    dims = []
    for field, _, value in _fields(buf):
        if field == 2:
            size = 0
            for f, _, v in _fields(value):
                if f == 1:
                    size = _signed64(v)
            dims.append(size)
        elif field == 3 and value:
            raise CheckpointError("tensor of unknown rank")
    return tuple(dims)


def parse_entry(buf):
    """BundleEntryProto: dtype=1, shape=2, shard_id=3, offset=4, size=5, crc32c=6, slices=7."""
    entry = {"dtype": 0, "shape": (), "shard_id": 0, "offset": 0, "size": 0, "crc32c": None}
    for field, _, value in _fields(buf):
        if field == 1:
            entry["dtype"] = value
        elif field == 2:
            entry["shape"] = parse_shape(value)
        elif field == 3:
            entry["shard_id"] = value
        elif field == 4:
            entry["offset"] = _signed64(value)
        elif field == 5:
            entry["size"] = _signed64(value)
        elif field == 6:
            entry["crc32c"] = value
        elif field == 7:
            raise CheckpointError("partitioned (sliced) variables are not supported")
    return entry


def parse_header(buf):
    """BundleHeaderProto: num_shards=1, endianness=2 (0 little, 1 big), version=3."""
    header = {"num_shards": 0, "endianness": 0}
    for field, _, value in _fields(buf):
        if field == 1:
            header["num_shards"] = value
        elif field == 2:
            header["endianness"] = value
    return header


# ---- the SSTable -------------------------------------------------------------------------

def _block_handle(buf, pos):
    offset, pos = _varint(buf, pos)
    size, pos = _varint(buf, pos)
    return (offset, size), pos


def _read_block(table, handle):
    offset, size = handle
    if offset + size + BLOCK_TRAILER_LEN > len(table):
        raise CheckpointError("block past the end of the index file")
    block = table[offset:offset + size]
    compression = table[offset + size]
    if compression != 0:
        # 1 is snappy; TF writes tensor-bundle indexes uncompressed
        raise CheckpointError(f"compressed SSTable block (type {compression}) is not supported")
    stored = struct.unpack_from("<I", table, offset + size + 1)[0]
    if crc32c(table[offset:offset + size + 1]) != unmask_crc(stored):
        raise CheckpointError(f"block at offset {offset}: crc32c mismatch")
    return block


def _block_entries(block):
    """Yields (key, value) of one block, undoing the shared-prefix key compression."""
    if len(block) < 4:
        raise CheckpointError("block too short")
    num_restarts = struct.unpack_from("<I", block, len(block) - 4)[0]
    limit = len(block) - 4 - 4 * num_restarts
    if limit < 0:
        raise CheckpointError("bad restart array")
    restarts = struct.unpack_from(f"<{num_restarts}I", block, limit)
    restart_set = set(restarts)
    pos = 0
    key = b""
    while pos < limit:
        at = pos
        shared, pos = _varint(block, pos)
        non_shared, pos = _varint(block, pos)
        value_len, pos = _varint(block, pos)
        # a restart point stores its whole key: a sanity check on the walk
        if at in restart_set and shared != 0:
            raise CheckpointError("restart entry with a shared key prefix")
        if shared > len(key):
            raise CheckpointError("shared prefix longer than previous key")
        key = key[:shared] + bytes(block[pos:pos + non_shared])
        pos += non_shared
        value = bytes(block[pos:pos + value_len])
        pos += value_len
        if pos > limit:
            raise CheckpointError("entry runs into the restart array")
        yield key, value


def read_index(path):
    """Returns the (key -> value bytes) of a LevelDB-format table, in key order."""
    with open(path, "rb") as f:
        table = memoryview(f.read())
    if len(table) < FOOTER_LEN:
        raise CheckpointError(f"{path}: too short to be an SSTable")
    footer = table[len(table) - FOOTER_LEN:]
    if struct.unpack_from("<Q", footer, 40)[0] != TABLE_MAGIC:
        raise CheckpointError(f"{path}: bad SSTable magic")
    _, pos = _block_handle(footer, 0)  # metaindex: unused (no filters in tensor bundles)
    index_handle, _ = _block_handle(footer, pos)
    entries = {}
    for _, handle_bytes in _block_entries(_read_block(table, index_handle)):
        handle, _ = _block_handle(handle_bytes, 0)
        for key, value in _block_entries(_read_block(table, handle)):
            entries[key] = value
    return entries


# ---- the tensor bundle --------------------------------------------------------------------

def read_checkpoint(prefix, verify_crc=True):
    """Returns {variable name: numpy array} of the checkpoint at `prefix`.

    `prefix` is what `Saver.save` was given: the files are `prefix + ".index"` and
    `prefix + ".data-0000N-of-0000M"` (musicnn's prefix ends in "/", so its files are
    named just ".index" etc.).
    """
    entries = read_index(prefix + ".index")
    if b"" not in entries:
        raise CheckpointError("no bundle header (empty key) in the index")
    header = parse_header(entries.pop(b""))
    if header["endianness"] != 0:
        raise CheckpointError("big-endian checkpoints are not supported")
    num_shards = header["num_shards"]
    shards = {}
    tensors = {}
    for key, value in entries.items():
        name = key.decode("utf-8")
        entry = parse_entry(value)
        if entry["dtype"] not in DTYPES:
            raise CheckpointError(f"{name}: unsupported dtype enum {entry['dtype']}")
        dtype = np.dtype(DTYPES[entry["dtype"]])
        shape = entry["shape"]
        count = int(np.prod(shape)) if shape else 1
        if count * dtype.itemsize != entry["size"]:
            raise CheckpointError(f"{name}: size {entry['size']} does not match {shape} {dtype}")
        shard = entry["shard_id"]
        if shard not in shards:
            with open(f"{prefix}.data-{shard:05d}-of-{num_shards:05d}", "rb") as f:
                shards[shard] = f.read()
        raw = shards[shard][entry["offset"]:entry["offset"] + entry["size"]]
        if len(raw) != entry["size"]:
            raise CheckpointError(f"{name}: data shard too short")
        if verify_crc and entry["crc32c"] is not None:
            if crc32c(raw) != unmask_crc(entry["crc32c"]):
                raise CheckpointError(f"{name}: tensor crc32c mismatch")
        array = np.frombuffer(raw, dtype=dtype).reshape(shape)
        tensors[name] = array.astype(dtype.newbyteorder("="))  # native order, writable copy
    return tensors


if __name__ == "__main__":
    for name, array in read_checkpoint(sys.argv[1]).items():
        print(f"{name:60s} {array.dtype} {array.shape}")
