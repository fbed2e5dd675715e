// What llama.cpp (through node-llama-cpp) reports about a GGUF after loading
// it, as one JSON line: the reference side of tests/cli_inspect_peer.sh.
// Run from the folder where scripts/peer.sh installed node-llama-cpp:
//   NODE_PATH is not used by ES modules, so the test copies this file there.
import {getLlama, LlamaLogLevel} from "node-llama-cpp";

const file = process.argv[2];
const llama = await getLlama({gpu: false, build: "never", skipDownload: true,
                              usePrebuiltBinaries: true, logLevel: LlamaLogLevel.error});
const model = await llama.loadModel({modelPath: file, gpuLayers: 0});
const ins = model.fileInsights;
const meta = model.fileInfo.metadata;
const arch = model.fileInfo.architectureMetadata ?? {};
const out = {
    architecture: meta?.general?.architecture,
    name: meta?.general?.name,
    file_type: meta?.general?.file_type,
    n_vocab: meta?.tokenizer?.ggml?.tokens?.length,
    tokenizer_model: meta?.tokenizer?.ggml?.model,
    tokenizer_pre: meta?.tokenizer?.ggml?.pre,
    bos: model.tokens.bos, eos: model.tokens.eos,
    add_bos: model.tokens.shouldPrependBosToken,
    context_length: model.trainContextSize,
    embedding_length: model.embeddingVectorSize,
    n_layers: ins.totalLayers - 1,      // node-llama-cpp counts the output layer too
    block_count: arch.block_count,
    n_heads: arch.attention?.head_count,
    n_kv_heads: arch.attention?.head_count_kv,
    feed_forward_length: arch.feed_forward_length,
    n_params: ins.totalParameters,
    tensor_bytes: model.size,
    n_tensors: model.fileInfo.fullTensorInfo?.length,
};
console.log(JSON.stringify(out));
await model.dispose();
await llama.dispose();
