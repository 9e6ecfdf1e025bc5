#!/usr/bin/python3
"""Writes tests/golden/fixtures/chat_templates.json: the published Jinja chat templates of several model
families rendered by the real Jinja2 engine, for tests/unit/runtime/chat_template_test.cpp to replay
against lmaas's built-in formats (src/runtime/chat_template.h).

Run by hand with Debian's python3-jinja2 (scripts/install-deps --references), not by CI:
    /usr/bin/python3 tests/tools/gen_chat_template_fixtures.py
The environment is the one Hugging Face's apply_chat_template builds: a sandboxed Jinja2 environment with
trim_blocks and lstrip_blocks, the loopcontrols extension, a raise_exception global and Hugging Face's
tojson filter (json.dumps, non-ASCII kept); every render uses add_generation_prompt=True. strftime_now is left
undefined, so the Llama 3.x templates write their default date ("26 Jul 2024").
Templates that differ from another one by a few lines (Llama 3.2 from 3.1, Mistral v0.3 from Nemo, Qwen2.5-Instruct
from Qwen2.5) are written as that template plus the listed differences, each checked to apply exactly once.

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

# meta-llama/Llama-3.1-8B-Instruct (tokenizer_config.json). date_string keeps its default "26 Jul 2024".
LLAMA31 = r"""{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\n\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\n\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\n" }}
{{- "Today Date: " + date_string + "\n\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{#- Custom tools are passed in a user message with some extra guidance #}
{%- if tools_in_user_message and not tools is none %}
    {#- Extract the first user message so we can plug it in here #}
    {%- if messages | length != 0 %}
        {%- set first_user_message = messages[0]['content']|trim %}
        {%- set messages = messages[1:] %}
    {%- else %}
        {{- raise_exception("Cannot put tools in the first user message when there's no first user message!") }}
{%- endif %}
    {{- '<|start_header_id|>user<|end_header_id|>\n\n' -}}
    {{- "Given the following functions, please respond with a JSON for a function call " }}
    {{- "with its proper arguments that best answers the given prompt.\n\n" }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\n\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\n\n" }}
    {%- endfor %}
    {{- first_user_message + "<|eot_id|>"}}
{%- endif %}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- if not message.tool_calls|length == 1 %}
            {{- raise_exception("This model only supports single tool-calls at once!") }}
        {%- endif %}
        {%- set tool_call = message.tool_calls[0].function %}
        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- "<|python_tag|>" + tool_call.name + ".call(" }}
            {%- for arg_name, arg_val in tool_call.arguments | items %}
                {{- arg_name + '="' + arg_val + '"' }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- endif %}
                {%- endfor %}
            {{- ")" }}
        {%- else  %}
            {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}
            {{- '{"name": "' + tool_call.name + '", ' }}
            {{- '"parameters": ' }}
            {{- tool_call.arguments | tojson }}
            {{- "}" }}
        {%- endif %}
        {%- if builtin_tools is defined %}
            {#- This means we're in ipython mode #}
            {{- "<|eom_id|>" }}
        {%- else %}
            {{- "<|eot_id|>" }}
        {%- endif %}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\n\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\n\n' }}
{%- endif %}
"""

# meta-llama/Llama-3.2-1B-Instruct: the Llama 3.1 template above without the built-in tools, and with today's date
# when strftime_now is defined. It is not defined here, so date_string keeps its default "26 Jul 2024" (Hugging
# Face defines strftime_now and would write the day's date). Each difference is applied exactly once, so the text
# is the published one.
LLAMA32_DIFFERENCES = [
    ('{%- if not date_string is defined %}\n    {%- set date_string = "26 Jul 2024" %}\n',
     '{%- if not date_string is defined %}\n    {%- if strftime_now is defined %}\n        {%- set date_string = strftime_now("%d %b %Y") %}\n    {%- else %}\n        {%- set date_string = "26 Jul 2024" %}\n    {%- endif %}\n'),
    ('\n{#- System message + builtin tools #}\n',
     '\n{#- System message #}\n'),
    ('{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}\n{%- if builtin_tools is defined or tools is not none %}\n',
     '{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}\n{%- if tools is not none %}\n'),
    ('    {{- "Environment: ipython\\n" }}\n{%- endif %}\n{%- if builtin_tools is defined %}\n    {{- "Tools: " + builtin_tools | reject(\'equalto\', \'code_interpreter\') | join(", ") + "\\n\\n"}}\n',
     '    {{- "Environment: ipython\\n" }}\n'),
    ('        {%- set tool_call = message.tool_calls[0].function %}\n        {%- if builtin_tools is defined and tool_call.name in builtin_tools %}\n            {{- \'<|start_header_id|>assistant<|end_header_id|>\\n\\n\' -}}\n            {{- "<|python_tag|>" + tool_call.name + ".call(" }}\n            {%- for arg_name, arg_val in tool_call.arguments | items %}\n                {{- arg_name + \'="\' + arg_val + \'"\' }}\n                {%- if not loop.last %}\n                    {{- ", " }}\n                {%- endif %}\n                {%- endfor %}\n            {{- ")" }}\n        {%- else  %}\n            {{- \'<|start_header_id|>assistant<|end_header_id|>\\n\\n\' -}}\n            {{- \'{"name": "\' + tool_call.name + \'", \' }}\n            {{- \'"parameters": \' }}\n            {{- tool_call.arguments | tojson }}\n            {{- "}" }}\n        {%- endif %}\n        {%- if builtin_tools is defined %}\n            {#- This means we\'re in ipython mode #}\n            {{- "<|eom_id|>" }}\n        {%- else %}\n            {{- "<|eot_id|>" }}\n        {%- endif %}\n',
     '        {%- set tool_call = message.tool_calls[0].function %}\n        {{- \'<|start_header_id|>assistant<|end_header_id|>\\n\\n\' -}}\n        {{- \'{"name": "\' + tool_call.name + \'", \' }}\n        {{- \'"parameters": \' }}\n        {{- tool_call.arguments | tojson }}\n        {{- "}" }}\n        {{- "<|eot_id|>" }}\n'),
]


def derived(text, differences):
    for old, new in differences:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


LLAMA32 = derived(LLAMA31, LLAMA32_DIFFERENCES)

# Qwen/Qwen2-7B-Instruct (ChatML with a default system message)
QWEN2 = (r"{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
         r"{{ '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}{% endif %}"
         r"{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
         r"{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")

# Qwen/Qwen2.5-0.5B (the Qwen2.5 template; tool results go in user turns as <tool_response> blocks)
QWEN25_BASE = r"""{%- if tools %}
    {{- '<|im_start|>system\n' }}
    {%- if messages[0]['role'] == 'system' %}
        {{- messages[0]['content'] }}
    {%- else %}
        {{- 'You are a helpful assistant.' }}
    {%- endif %}
    {{- "\n\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided with function signatures within <tools></tools> XML tags:\n<tools>" }}
    {%- for tool in tools %}
        {{- "\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": <args-json-object>}\n</tool_call><|im_end|>\n" }}
{%- else %}
    {%- if messages[0]['role'] == 'system' %}
        {{- '<|im_start|>system\n' + messages[0]['content'] + '<|im_end|>\n' }}
    {%- else %}
        {{- '<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n' }}
    {%- endif %}
{%- endif %}
{%- for message in messages %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
        {{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}
    {%- elif message.role == "assistant" %}
        {{- '<|im_start|>' + message.role }}
        {%- if message.content %}
            {{- '\n' + message.content }}
        {%- endif %}
        {%- for tool_call in message.tool_calls %}
            {%- if tool_call.function is defined %}
                {%- set tool_call = tool_call.function %}
            {%- endif %}
            {{- '\n<tool_call>\n{"name": "' }}
            {{- tool_call.name }}
            {{- '", "arguments": ' }}
            {{- tool_call.arguments | tojson }}
            {{- '}\n</tool_call>' }}
        {%- endfor %}
        {{- '<|im_end|>\n' }}
    {%- elif message.role == "tool" %}
        {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\n<tool_response>\n' }}
        {{- message.content }}
        {{- '\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\n' }}
{%- endif %}
"""
# Qwen/Qwen2.5-7B-Instruct: the same template with Qwen's own default system message in both places.
QWEN25 = QWEN25_BASE.replace("You are a helpful assistant.",
                             "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.")

# mistralai/Mistral-Nemo-Instruct-2407 (Tekken tokenizer): "[INST]" without spaces, assistant turns as written.
MISTRAL_NEMO = r"""{%- if messages[0]["role"] == "system" %}
    {%- set system_message = messages[0]["content"] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set loop_messages = messages %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}
{%- set user_messages = loop_messages | selectattr("role", "equalto", "user") | list %}

{#- This block checks for alternating user/assistant messages, skipping tool calling messages #}
{%- set ns = namespace() %}
{%- set ns.index = 0 %}
{%- for message in loop_messages %}
    {%- if not (message.role == "tool" or message.role == "tool_results" or (message.tool_calls is defined and message.tool_calls is not none)) %}
        {%- if (message["role"] == "user") != (ns.index % 2 == 0) %}
            {{- raise_exception("After the optional system message, conversation roles must alternate user/assistant/user/assistant/...") }}
        {%- endif %}
        {%- set ns.index = ns.index + 1 %}
    {%- endif %}
{%- endfor %}

{{- bos_token }}
{%- for message in loop_messages %}
    {%- if message["role"] == "user" %}
        {%- if tools is not none and (message == user_messages[-1]) %}
            {{- "[AVAILABLE_TOOLS][" }}
            {%- for tool in tools %}
                {%- set tool = tool.function %}
                {{- '{"type": "function", "function": {' }}
                {%- for key, val in tool.items() if key != "return" %}
                    {%- if val is string %}
                        {{- '"' + key + '": "' + val + '"' }}
                    {%- else %}
                        {{- '"' + key + '": ' + val|tojson }}
                    {%- endif %}
                    {%- if not loop.last %}
                        {{- ", " }}
                    {%- endif %}
                {%- endfor %}
                {{- "}}" }}
                {%- if not loop.last %}
                    {{- ", " }}
                {%- else %}
                    {{- "]" }}
                {%- endif %}
            {%- endfor %}
            {{- "[/AVAILABLE_TOOLS]" }}
            {%- endif %}
        {%- if loop.last and system_message is defined %}
            {{- "[INST]" + system_message + "\n\n" + message["content"] + "[/INST]" }}
        {%- else %}
            {{- "[INST]" + message["content"] + "[/INST]" }}
        {%- endif %}
    {%- elif (message.tool_calls is defined and message.tool_calls is not none) %}
        {{- "[TOOL_CALLS][" }}
        {%- for tool_call in message.tool_calls %}
            {%- set out = tool_call.function|tojson %}
            {{- out[:-1] }}
            {%- if not tool_call.id is defined or tool_call.id|length != 9 %}
                {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
            {%- endif %}
            {{- ', "id": "' + tool_call.id + '"}' }}
            {%- if not loop.last %}
                {{- ", " }}
            {%- else %}
                {{- "]" + eos_token }}
            {%- endif %}
        {%- endfor %}
    {%- elif message["role"] == "assistant" %}
        {{- message["content"] + eos_token}}
    {%- elif message["role"] == "tool_results" or message["role"] == "tool" %}
        {%- if message.content is defined and message.content.content is defined %}
            {%- set content = message.content.content %}
        {%- else %}
            {%- set content = message.content %}
        {%- endif %}
        {{- '[TOOL_RESULTS]{"content": ' + content|string + ", " }}
        {%- if not message.tool_call_id is defined or message.tool_call_id|length != 9 %}
            {{- raise_exception("Tool call IDs should be alphanumeric strings with length 9!") }}
        {%- endif %}
        {{- '"call_id": "' + message.tool_call_id + '"}[/TOOL_RESULTS]' }}
    {%- else %}
        {{- raise_exception("Only user and assistant roles are supported, with the exception of an initial optional system message!") }}
    {%- endif %}
{%- endfor %}
"""

# mistralai/Mistral-7B-Instruct-v0.3: the Nemo template above with a space after "[INST]", "[AVAILABLE_TOOLS]",
# "[TOOL_CALLS]" and "[TOOL_RESULTS]", and assistant turns written as " " + trimmed content. Each difference is
# applied exactly once, so the text below is the published one.
MISTRAL_V3_DIFFERENCES = [
    ('"[AVAILABLE_TOOLS]["', '"[AVAILABLE_TOOLS] ["'),
    ('"[INST]" + system_message', '"[INST] " + system_message'),
    ('"[INST]" + message["content"]', '"[INST] " + message["content"]'),
    ("{%- elif (message.tool_calls is defined and message.tool_calls is not none) %}",
     "{%- elif message.tool_calls is defined and message.tool_calls is not none %}"),
    ('"[TOOL_CALLS]["', '"[TOOL_CALLS] ["'),
    ('{{- message["content"] + eos_token}}', '{{- " " + message["content"]|trim + eos_token}}'),
    ("'[TOOL_RESULTS]{\"content\": '", "'[TOOL_RESULTS] {\"content\": '"),
]

MISTRAL_V3 = derived(MISTRAL_NEMO, MISTRAL_V3_DIFFERENCES)

# microsoft/phi-4 (current tokenizer_config.json)
PHI4 = (r"{% for message in messages %}{% if (message['role'] == 'system') %}"
        r"{{'<|im_start|>system<|im_sep|>' + message['content'] + '<|im_end|>'}}{% elif (message['role'] == 'user') %}"
        r"{{'<|im_start|>user<|im_sep|>' + message['content'] + '<|im_end|>'}}{% elif (message['role'] == 'assistant') %}"
        r"{{'<|im_start|>assistant<|im_sep|>' + message['content'] + '<|im_end|>'}}{% endif %}{% endfor %}"
        r"{% if add_generation_prompt %}{{ '<|im_start|>assistant<|im_sep|>' }}{% endif %}")

# microsoft/phi-4 as first published: the assistant header follows every user message (no add_generation_prompt).
PHI4_ORIGINAL = (r"{% for message in messages %}{% if (message['role'] == 'system') %}"
                 r"{{'<|im_start|>system<|im_sep|>' + message['content'] + '<|im_end|>'}}"
                 r"{% elif (message['role'] == 'user') %}"
                 r"{{'<|im_start|>user<|im_sep|>' + message['content'] + '<|im_end|><|im_start|>assistant<|im_sep|>'}}"
                 r"{% elif (message['role'] == 'assistant') %}{{message['content'] + '<|im_end|>'}}{% endif %}{% endfor %}")

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
    # Two tool results in a row, with quotes, a backslash, a newline, a control character and non-ASCII text.
    "tool_results": [m("system", "Use the tools."), m("user", "Weather?"), m("assistant", "Calling two tools."),
                     m("tool", "{\"city\": \"Zürich\", \"note\": \"a\\\\b\\n<x> & 'y'\"}"),
                     m("tool", "line 1\nline\t2\u0001 \u00e9\u6771")],
}
ALL_PLAIN = ["single_user", "system_user", "multi_turn", "no_system", "unicode_newlines"]
NO_SYSTEM = ["single_user", "no_system"]
WITH_TOOL = ALL_PLAIN + ["empty_system", "tool_result", "tool_results"]

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
    ("llama31", "meta-llama/Llama-3.1-8B-Instruct", "llama3.1", LLAMA31, "<|begin_of_text|>", "<|eot_id|>",
     WITH_TOOL, None),
    ("llama32", "meta-llama/Llama-3.2-1B-Instruct", "llama3.1", LLAMA32, "<|begin_of_text|>", "<|eot_id|>",
     WITH_TOOL, None),
    ("qwen2", "Qwen/Qwen2-7B-Instruct", "qwen2", QWEN2, "", "<|im_end|>", WITH_TOOL, None),
    ("qwen25", "Qwen/Qwen2.5-7B-Instruct", "qwen2.5", QWEN25, "", "<|im_end|>",
     WITH_TOOL, None),
    ("mistral_v3", "mistralai/Mistral-7B-Instruct-v0.3", "mistral-v3", MISTRAL_V3, "<s>", "</s>", ALL_PLAIN, None),
    ("mistral_nemo", "mistralai/Mistral-Nemo-Instruct-2407", "mistral-v3-tekken", MISTRAL_NEMO, "<s>", "</s>",
     ALL_PLAIN, None),
    ("phi4", "microsoft/phi-4", "phi4", PHI4, "<|endoftext|>", "<|im_end|>", ALL_PLAIN + ["empty_system"], None),
    ("phi4_original", "microsoft/phi-4 (first published)", "phi4", PHI4_ORIGINAL, "<|endoftext|>", "<|im_end|>",
     ALL_PLAIN, None),
]


def fold_system(messages):
    if not messages or messages[0]["role"] != "system":
        return messages
    rest = [dict(x) for x in messages[1:]]
    rest[0]["content"] = messages[0]["content"] + "\n\n" + rest[0]["content"]
    return rest


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    """Hugging Face's tojson filter: plain json.dumps, non-ASCII kept, nothing HTML-escaped."""
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def environment():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env = jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                                       extensions=[jinja2.ext.loopcontrols])
    env.globals["raise_exception"] = raise_exception
    env.filters["tojson"] = tojson
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
