"""Projector files for ``add_embedding``: tensors.tsv, metadata.tsv, sprite.png and the pbtxt config."""
import math
import os

import numpy as np

from ._convert import encode_png, make_grid, make_np, to_uint8


def encode_tag(raw):
    """A tag made safe as one directory name: only '%', '/' and '\\' are escaped."""
    return raw.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")


def write_tsv(metadata, save_path, header=None):
    if header is None:
        rows = [str(x) for x in metadata]
    else:
        if len(header) != len(metadata[0]):
            raise AssertionError("len of header must be equal to the number of columns in metadata")
        rows = ["\t".join(str(e) for e in row) for row in [header] + list(metadata)]
    with open(os.path.join(save_path, "metadata.tsv"), "w", encoding="utf8") as f:
        f.write("\n".join(rows) + "\n")


def write_matrix(mat, save_path):
    with open(os.path.join(save_path, "tensors.tsv"), "w", encoding="utf8") as f:
        for row in mat.tolist():
            f.write("\t".join(str(v) for v in row) + "\n")


def write_sprite(label_img, save_path):
    """All label images in one square PNG, ceil(sqrt(N)) per row (the projector's sprite layout)."""
    imgs = make_np(label_img)
    n = imgs.shape[0]
    per_row = int(math.ceil(n ** 0.5))
    grid = make_grid(imgs, ncols=per_row).transpose(1, 2, 0)  # HWC
    side = max(grid.shape[0], grid.shape[1])
    square = np.zeros((side, side, grid.shape[2]), grid.dtype)
    square[:grid.shape[0], :grid.shape[1]] = grid
    with open(os.path.join(save_path, "sprite.png"), "wb") as f:
        f.write(encode_png(to_uint8(square)))


def embedding_info(metadata, label_img, subdir, global_step, tag):
    from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo
    info = EmbeddingInfo(tensor_name=f"{tag}:{str(global_step).zfill(5)}", tensor_path=f"{subdir}/tensors.tsv")
    if metadata is not None:
        info.metadata_path = f"{subdir}/metadata.tsv"
    if label_img is not None:
        info.sprite.image_path = f"{subdir}/sprite.png"
        info.sprite.single_image_dim.extend([label_img.shape[3], label_img.shape[2]])
    return info


def write_pbtxt(logdir, config):
    from google.protobuf import text_format
    with open(os.path.join(logdir, "projector_config.pbtxt"), "w", encoding="utf8") as f:
        f.write(text_format.MessageToString(config))
