#!/usr/bin/python3
"""Writes tests/golden/fixtures/chat_templates.json: the published Jinja chat templates of several model
families rendered by the real Jinja2 engine, for tests/unit/runtime/chat_template_test.cpp to replay
against lmaas's built-in formats (src/runtime/chat_template.h).

Run by hand with Debian's python3-jinja2 (scripts/install-deps --references), not by CI:
    /usr/bin/python3 tests/tools/gen_chat_template_fixtures.py
The environment is the one Hugging Face's apply_chat_template builds: a sandboxed Jinja2 environment with
trim_blocks and lstrip_blocks, the loopcontrols extension and a raise_exception global; every render uses
add_generation_prompt=True.

The template sources below are data, copied as published in each model's tokenizer_config.json (Vicuna
publishes none: its entry is the community template that llama.cpp's tests use for eachadea/vicuna-13b-1.1).
Phi-3-mini's template is read from the GGUF vocabulary file in ../shared/data.

Where a published template cannot express a conversation, the fixture says how lmaas's rule was applied
before rendering ("transform"):
- fold_system: the leading system message is prepended to the first user message, separated by a blank
  line (Mistral's original template has no system role).
Templates that ignore BOS (Phi-3.5) are rendered with an empty BOS text: lmaas writes the BOS text first
for Phi-3, as Phi-3-mini's template does, so an empty BOS makes the two agree.
"""
import json
import os
import sys

import jinja2
import jinja2.ext
import jinja2.sandbox

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gguf_facts  # noqa: E402

PHI3_GGUF = os.path.join(ROOT, "..", "shared", "data", "tokenizer-vectors", "llama.cpp", "ggml-vocab-phi-3.gguf")

# teknium/OpenHermes-2.5-Mistral-7B (ChatML, as Qwen and many fine-tunes use it).
CHATML = (r"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
          r"'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")

# meta-llama/Llama-2-7b-chat-hf
LLAMA2 = (r"{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = "
          r"messages[0]['content'] %}{% else %}{% set loop_messages = messages %}{% set system_message = false %}"
          r"{% endif %}{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
          r"{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
          r"{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\n' + system_message + "
          r"'\n<</SYS>>\n\n' + message['content'] %}{% else %}{% set content = message['content'] %}{% endif %}"
          r"{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
          r"{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}"
          r"{% endfor %}")

# meta-llama/Meta-Llama-3-8B-Instruct
LLAMA3 = (r"{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
          r"'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + "
          r"'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
          r"{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}"
          r"{% endif %}")

# mistralai/Mistral-7B-Instruct-v0.2 and mistralai/Mixtral-8x7B-Instruct-v0.1 (original, without a system role)
MISTRAL = (r"{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
           r"{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
           r"{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
           r"{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}"
           r"{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}")

# microsoft/Phi-3.5-mini-instruct
PHI35 = (r"{% for message in messages %}{% if message['role'] == 'system' and message['content'] %}"
         r"{{'<|system|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'user' %}"
         r"{{'<|user|>\n' + message['content'] + '<|end|>\n'}}{% elif message['role'] == 'assistant' %}"
         r"{{'<|assistant|>\n' + message['content'] + '<|end|>\n'}}{% endif %}{% endfor %}"
         r"{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}")

# HuggingFaceH4/zephyr-7b-beta (newlines between the tags are part of the template)
ZEPHYR = ("{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\n' + message['content'] + "
          "eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\n' + message['content'] + eos_token }}\n"
          "{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\n'  + message['content'] + eos_token }}\n"
          "{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}")

# google/gemma-2-9b-it (no system role)
GEMMA2 = (r"{{ bos_token }}{% if messages[0]['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
          r"{% endif %}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
          r"{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
          r"{% if (message['role'] == 'assistant') %}{% set role = 'model' %}{% else %}{% set role = message['role'] %}"
          r"{% endif %}{{ '<start_of_turn>' + role + '\n' + message['content'] | trim + '<end_of_turn>\n' }}{% endfor %}"
          r"{% if add_generation_prompt %}{{'<start_of_turn>model\n'}}{% endif %}")

# google/gemma-3-4b-it (folds the system message into the first user turn)
GEMMA3 = r"""{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
"""

# eachadea/vicuna-13b-1.1 (no published template; the one llama.cpp's tests use)
VICUNA = ("{%- for message in messages %}{%- if message['role'] == 'system' -%}{{- '' + message['content'] + '\n\n' -}}"
          "{%- else -%}{%- if message['role'] == 'user' -%}{{-'USER: ' + message['content'] + '\n'-}}{%- else -%}"
          "{{-'ASSISTANT: ' + message['content'] + '</s>\n' -}}{%- endif -%}{%- endif -%}{%- endfor -%}"
          "{%- if add_generation_prompt -%}{{-'ASSISTANT:'-}}{%- endif -%}")

# deepseek-ai/deepseek-coder-33b-instruct
DEEPSEEK = ("{% if not add_generation_prompt is defined %}\n{% set add_generation_prompt = false %}\n{% endif %}\n"
            "{%- set ns = namespace(found=false) -%}\n{%- for message in messages -%}\n"
            "    {%- if message['role'] == 'system' -%}\n        {%- set ns.found = true -%}\n    {%- endif -%}\n"
            "{%- endfor -%}\n{{bos_token}}{%- if not ns.found -%}\n"
            "{{'You are an AI programming assistant, utilizing the Deepseek Coder model, developed by Deepseek "
            "Company, and you only answer questions related to computer science. For politically sensitive "
            "questions, security and privacy issues, and other non-computer science questions, you will refuse "
            "to answer\\n'}}\n{%- endif %}\n{%- for message in messages %}\n    {%- if message['role'] == 'system' %}\n"
            "{{ message['content'] }}\n    {%- else %}\n        {%- if message['role'] == 'user' %}\n"
            "{{'### Instruction:\\n' + message['content'] + '\\n'}}\n        {%- else %}\n"
            "{{'### Response:\\n' + message['content'] + '\\n<|EOT|>\\n'}}\n        {%- endif %}\n    {%- endif %}\n"
            "{%- endfor %}\n{% if add_generation_prompt %}\n{{'### Response:'}}\n{% endif %}")


def phi3_gguf_template():
    with open(PHI3_GGUF, "rb") as f:
        _, _, kv, _ = gguf_facts.parse(f.read())
    return kv["tokenizer.chat_template"][1].decode("utf-8")


def m(role, content):
    return {"role": role, "content": content}


CONVERSATIONS = {
    "single_user": [m("user", "Hello")],
    "system_user": [m("system", "You are a helpful assistant"), m("user", "Hello")],
    "multi_turn": [m("system", "You are a helpful assistant"), m("user", "Hello"), m("assistant", "Hi there"),
                   m("user", "Who are you"), m("assistant", "   I am an assistant   "), m("user", "Another question")],
    "no_system": [m("user", "What is 2+2?"), m("assistant", "4."), m("user", "And 3+3?")],
    # Unicode and newlines, and whitespace that strip()/trim remove (U+3000, U+00A0, tabs) at the edges.
    "unicode_newlines": [m("system", "Réponds en français.\nSois bref.  "),
                         m("user", "  Café ☕ — 東京\n\n二行目 \u3000"), m("assistant", "\u00a0Oui !\n"),
                         m("user", "Ça va ?\t\n")],
    "empty_system": [m("system", ""), m("user", "Hi")],
    "tool_result": [m("user", "Weather in Paris?"), m("assistant", "Calling the weather tool."),
                    m("tool", "{\"temp_c\": 21}")],
}
ALL_PLAIN = ["single_user", "system_user", "multi_turn", "no_system", "unicode_newlines"]
NO_SYSTEM = ["single_user", "no_system"]

# (id, published by, lmaas format, source, bos, eos, conversations, transform)
REFERENCES = [
    ("chatml", "teknium/OpenHermes-2.5-Mistral-7B", "chatml", CHATML, "<s>", "<|im_end|>",
     ALL_PLAIN + ["empty_system", "tool_result"], None),
    ("llama2", "meta-llama/Llama-2-7b-chat-hf", "llama2", LLAMA2, "<s>", "</s>", ALL_PLAIN, None),
    ("llama3", "meta-llama/Meta-Llama-3-8B-Instruct", "llama3", LLAMA3, "<|begin_of_text|>", "<|eot_id|>",
     ALL_PLAIN + ["empty_system", "tool_result"], None),
    ("mistral", "mistralai/Mistral-7B-Instruct-v0.2", "mistral", MISTRAL, "<s>", "</s>", NO_SYSTEM, None),
    ("mistral_folded_system", "mistralai/Mistral-7B-Instruct-v0.2", "mistral", MISTRAL, "<s>", "</s>",
     ["system_user", "multi_turn", "unicode_newlines"], "fold_system"),
    ("phi3", "microsoft/Phi-3-mini-4k-instruct (ggml-vocab-phi-3.gguf)", "phi3", None, "<s>", "<|endoftext|>",
     NO_SYSTEM, None),
    ("phi35", "microsoft/Phi-3.5-mini-instruct", "phi3", PHI35, "", "<|endoftext|>",
     ALL_PLAIN + ["empty_system"], None),
    ("zephyr", "HuggingFaceH4/zephyr-7b-beta", "zephyr", ZEPHYR, "<s>", "</s>", ALL_PLAIN + ["empty_system"], None),
    ("gemma2", "google/gemma-2-9b-it", "gemma", GEMMA2, "<bos>", "<eos>", NO_SYSTEM, None),
    ("gemma3", "google/gemma-3-4b-it", "gemma", GEMMA3, "<bos>", "<eos>", ALL_PLAIN, None),
    ("vicuna", "eachadea/vicuna-13b-1.1 (llama.cpp test template)", "vicuna", VICUNA, "<s>", "</s>",
     ALL_PLAIN, None),
    ("deepseek", "deepseek-ai/deepseek-coder-33b-instruct", "deepseek", DEEPSEEK,
     "<\uff5cbegin\u2581of\u2581sentence\uff5c>", "<|EOT|>", ALL_PLAIN, None),
]


def fold_system(messages):
    if not messages or messages[0]["role"] != "system":
        return messages
    rest = [dict(x) for x in messages[1:]]
    rest[0]["content"] = messages[0]["content"] + "\n\n" + rest[0]["content"]
    return rest


def environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                                       extensions=[jinja2.ext.loopcontrols])
    env.globals["raise_exception"] = raise_exception
    return env


def main():
    env = environment()
    templates, cases = [], []
    for ref_id, model, fmt, source, bos, eos, conversations, transform in REFERENCES:
        if source is None:
            source = phi3_gguf_template()
        templates.append({"id": ref_id, "model": model, "format": fmt, "source": source})
        compiled = env.from_string(source)
        for name in conversations:
            messages = CONVERSATIONS[name]
            rendered_messages = fold_system(messages) if transform == "fold_system" else messages
            expected = compiled.render(messages=rendered_messages, bos_token=bos, eos_token=eos,
                                       add_generation_prompt=True)
            cases.append({"template": ref_id, "format": fmt, "conversation": name, "transform": transform,
                          "bos": bos, "eos": eos, "messages": messages, "expected": expected})
    path = os.path.join(ROOT, "tests", "golden", "fixtures", "chat_templates.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"generator": "tests/tools/gen_chat_template_fixtures.py, Jinja2 " + jinja2.__version__,
                   "add_generation_prompt": True, "templates": templates, "cases": cases},
                  f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote", os.path.normpath(path), len(templates), "templates", len(cases), "cases")


if __name__ == "__main__":
    main()
