// Runs an ONNX file in onnxruntime-web (its WebAssembly backend, as in a browser) under
// Node: node run_onnx.cjs ORT_ENTRY MODEL.onnx INPUTS.json OUTPUTS.json
// INPUTS.json: {name: {"dtype": "float32"|"int32", "dims": [...], "data": [...]}}
// OUTPUTS.json: {name: {"dims": [...], "data": [...]}} for every output of the model.
const fs = require("node:fs");
const [ortEntry, modelPath, inputsPath, outputsPath] = process.argv.slice(2);
const ort = require(ortEntry);
const ARRAYS = { float32: Float32Array, int32: Int32Array };

async function main() {
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(fs.readFileSync(modelPath),
                                                    { executionProviders: ["wasm"] });
  const inputs = JSON.parse(fs.readFileSync(inputsPath, "utf8"));
  const feeds = {};
  for (const [name, t] of Object.entries(inputs)) {
    feeds[name] = new ort.Tensor(t.dtype, ARRAYS[t.dtype].from(t.data), t.dims);
  }
  const results = await session.run(feeds);
  const out = {};
  for (const name of session.outputNames) {
    out[name] = { dims: Array.from(results[name].dims), data: Array.from(results[name].data) };
  }
  fs.writeFileSync(outputsPath, JSON.stringify(out));
}

main().catch((e) => { console.error(e && e.stack ? e.stack : String(e)); process.exit(1); });
