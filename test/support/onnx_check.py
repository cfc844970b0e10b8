"""The ONNX side of test/export.test.ts: onnx's checker, then onnxruntime on IDX images.

    python onnx_check.py MODEL.onnx IMAGES OUT

Prints a JSON description of the model (inputs, outputs, opset, metadata) and writes
onnxruntime's outputs as little-endian float32 to OUT.logits and OUT.probabilities.
"""
import json
import sys

import onnx
import onnxruntime

from idx_images import idx_images

model_file, images_file, out = sys.argv[1:4]
model = onnx.load(model_file)
onnx.checker.check_model(model, full_check=True)


def described(values):
    return [
        {"name": v.name, "shape": [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]}
        for v in values
    ]


session = onnxruntime.InferenceSession(model_file, providers=["CPUExecutionProvider"])
logits, probabilities = session.run(["logits", "probabilities"], {"input": idx_images(images_file)})
logits.astype("<f4").tofile(out + ".logits")
probabilities.astype("<f4").tofile(out + ".probabilities")
print(
    json.dumps(
        {
            "inputs": described(model.graph.input),
            "outputs": described(model.graph.output),
            "opset": [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")],
            "metadata": {p.key: p.value for p in model.metadata_props},
            "ops": sorted({n.op_type for n in model.graph.node}),
        }
    )
)
