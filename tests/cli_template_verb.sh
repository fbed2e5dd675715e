#!/usr/bin/env bash
# `xuan template`: the exact text a chat template renders, for templates of
# ../shared/templates and a GGUF's own tokenizer.chat_template (bos/eos from
# its vocabulary), compared with the strings @huggingface/jinja 0.5.11
# renders for the same input (written out here; tests/cli_template.sh
# checks every template against the live reference).  Also the flags
# (--no-generation-prompt, --kwargs, --tools, --bos/--eos), a fixed date for
# strftime_now, and the errors (exit 2 for usage, 1 with the line and
# construct for a bad template).  No node needed.
set -uo pipefail
: "${XUAN_BIN:?}" "${XUAN_SHARED:?}" "${XUAN_TMP:?}"
T="$XUAN_SHARED/templates"
[ -d "$XUAN_SHARED/templates" ] || { echo "skip: no $XUAN_SHARED/templates (../shared)"; exit 77; }
d="$XUAN_TMP/template_verb"
mkdir -p "$d"
export XUAN_JINJA_NOW=1767225600 TZ=UTC   # strftime_now: 2026-01-01
fails=0
# check NAME WANT -- ARGS...: stdout must be exactly WANT (printf %b escapes)
check() {
  local name=$1 want=$2; shift 3
  printf '%b' "$want" >"$d/want"
  "$@" >"$d/got" 2>"$d/err"
  local rc=$?
  if [ "$rc" != 0 ] || ! cmp -s "$d/got" "$d/want"; then
    echo "FAIL: $name (exit $rc)"
    printf '  got:  %q\n  want: %q\n' "$(cat "$d/got"; echo .)" "$(cat "$d/want"; echo .)"
    sed 's/^/  /' "$d/err"
    fails=$((fails + 1))
  else
    echo "ok: $name"
  fi
}
# fails_with NAME CODE PATTERN -- ARGS...: exit CODE, stderr matching PATTERN
fails_with() {
  local name=$1 code=$2 pat=$3; shift 4
  "$@" >"$d/out" 2>"$d/err"
  local rc=$?
  if [ "$rc" != "$code" ] || ! grep -qE -- "$pat" "$d/err"; then
    echo "FAIL: $name: exit $rc (want $code), stderr: $(head -c 300 "$d/err")"
    fails=$((fails + 1))
  else
    echo "ok: $name"
  fi
}
printf '[{"role":"system","content":"S"},{"role":"user","content":"Hi"}]' >"$d/sys.json"
printf '[{"role":"user","content":"What is 2+2?"},{"role":"assistant","content":"4","reasoning_content":"2+2=4"},{"role":"user","content":"And 3+3?"}]' >"$d/multi.json"
printf '[{"role":"user","content":"Weather in Paris?"},{"role":"assistant","content":"","tool_calls":[{"type":"function","function":{"name":"get_weather","arguments":{"city":"Paris"}}}]},{"role":"tool","content":"21C"}]' >"$d/call.json"
printf '[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]' >"$d/tools.json"
X="$XUAN_BIN"

check "qwen2.5 system + user" '<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n' -- \
  "$X" template --file "$T/Qwen-Qwen2.5-7B-Instruct.jinja" --messages "$d/sys.json"
check "qwen2.5 default system, no generation prompt" '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\nAnd 3+3?<|im_end|>\n' -- \
  "$X" template --file "$T/Qwen-Qwen2.5-7B-Instruct.jinja" --messages "$d/multi.json" --no-generation-prompt
check "qwen3 enable_thinking=false" '<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n4<|im_end|>\n<|im_start|>user\nAnd 3+3?<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n' -- \
  "$X" template --file "$T/Qwen-Qwen3-0.6B.jinja" --messages "$d/multi.json" --kwargs '{"enable_thinking": false}'
check "qwen3 tools and a tool call" '<|im_start|>system\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call><|im_end|>\n<|im_start|>user\nWeather in Paris?<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n21C\n</tool_response><|im_end|>\n<|im_start|>assistant\n' -- \
  "$X" template --file "$T/Qwen-Qwen3-0.6B.jinja" --messages "$d/call.json" --tools "$d/tools.json"
check "llama 3.2 with today's date from strftime_now" '<s><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 01 Jan 2026\n\nS<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n' -- \
  "$X" template --file "$T/meta-llama-Llama-3.2-3B-Instruct.jinja" --messages "$d/sys.json" --bos '<s>'
check "mistral nemo" '<s>[INST]S\n\nHi[/INST]' -- \
  "$X" template --file "$T/mistralai-Mistral-Nemo-Instruct-2407.jinja" --messages "$d/sys.json" --bos '<s>'
check "r1 distill (llama.cpp switch variant): no reasoning in past turns, </think> unless enable_thinking" '<s><｜User｜>What is 2+2?<｜Assistant｜>4<｜end▁of▁sentence｜><｜User｜>And 3+3?<｜Assistant｜><think>\n</think>' -- \
  "$X" template --file "$T/deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja" --messages "$d/multi.json" --bos '<s>' --eos '<｜end▁of▁sentence｜>'
check "phi-3.5 ends with eos without a generation prompt" '<|system|>\nS<|end|>\n<|user|>\nHi<|end|>\n</s>' -- \
  "$X" template --file "$T/microsoft-Phi-3.5-mini-instruct.jinja" --messages "$d/sys.json" --no-generation-prompt --eos '</s>'
check "-m: the GGUF's template with its vocabulary's bos" '<s><|user|>\nHi<|end|>\n<|assistant|>\n' -- \
  "$X" template -m "$XUAN_SHARED/vocab/ggml-vocab-phi-3.gguf" --messages "$d/sys.json"
check "messages from standard input" '<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n' -- \
  bash -c "\"$X\" template --file \"$T/Qwen-Qwen2.5-7B-Instruct.jinja\" --messages - <\"$d/sys.json\""

fails_with "the template raises" 1 "line 1: the template raised an exception: System role not supported" -- \
  "$X" template --file "$T/google-gemma-2-2b-it.jinja" --messages "$d/sys.json"
printf 'ok\n{%% if x %%}\n{%% raw %%}{%% endraw %%}\n{%% endif %%}' >"$d/raw.jinja"
fails_with "an unsupported statement names line and construct" 1 "raw.jinja: chat template: line 3: unsupported statement 'raw'" -- \
  "$X" template --file "$d/raw.jinja" --messages "$d/sys.json"
fails_with "bad messages JSON" 1 "messages: bad JSON" -- \
  bash -c "echo '[{' | \"$X\" template --file \"$T/Qwen-Qwen2.5-7B-Instruct.jinja\" --messages -"
fails_with "-m and --file together" 2 "exactly one of" -- \
  "$X" template -m x.gguf --file y.jinja --messages "$d/sys.json"
fails_with "no --messages" 2 "--messages FILE.json is required" -- \
  "$X" template --file "$T/Qwen-Qwen2.5-7B-Instruct.jinja"
fails_with "a model without a template" 1 "no tokenizer.chat_template" -- \
  "$X" template -m "$XUAN_SHARED/vocab/ggml-vocab-gpt-2.gguf" --messages "$d/sys.json"
# xuan run: the model's own template through the engine, --template-file, a bad file refused at load
"$X" synth --preset tiny --vocab-from "$XUAN_SHARED/vocab/ggml-vocab-phi-3.gguf" -o "$d/tiny-phi3.gguf" --force >/dev/null 2>&1
"$X" run -m "$d/tiny-phi3.gguf" -p Hi -n 1 --temp 0 -v >/dev/null 2>"$d/run.err"
if grep -q -- "---- prompt (jinja (model)) ----" "$d/run.err" && grep -qF '<|user|>' "$d/run.err"; then echo "ok: run renders the model's template"
else echo "FAIL: run did not render the model's template: $(head -c 300 "$d/run.err")"; fails=$((fails + 1)); fi
printf '{{ bos_token }}[U]{{ messages[-1].content }}[A]' >"$d/mine.jinja"
"$X" run -m "$d/tiny-phi3.gguf" -p Hi -n 1 --temp 0 -v --template-file "$d/mine.jinja" >/dev/null 2>"$d/run.err"
if grep -qF '<s>[U]Hi[A]' "$d/run.err"; then echo "ok: run --template-file"
else echo "FAIL: run --template-file: $(head -c 300 "$d/run.err")"; fails=$((fails + 1)); fi
fails_with "run --template-file with an unsupported statement" 2 "line 3: unsupported statement 'raw'" -- \
  "$X" run -m "$d/tiny-phi3.gguf" -p Hi -n 1 --template-file "$d/raw.jinja"
[ "$fails" -eq 0 ] || { echo "FAIL: $fails checks"; exit 1; }
echo "all template verb checks passed"
