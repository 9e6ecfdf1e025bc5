"""client.completions / client.chat.completions / tokenize against a real `lmaas serve` with generators:
greedy text equal to llama2.c's reference, streams equal to whole answers, typed chunks, errors by status,
and a stream closed early stopping the server's work."""
import re
import threading
import time

import pytest

import lmaas


@pytest.fixture
def client(server, base_url):
    with lmaas.Client(base_url=base_url, api_key=server.infer_key, max_retries=0) as c:
        yield c


def greedy_case(reference):
    """The "Once upon a time" case and how many tokens llama2.c generated after the prompt."""
    case = reference["cases"][1]
    assert case["prompt"] == "Once upon a time"
    return case, len(case["token_ids_after_bos"]) - (len(case["prompt_token_ids"]) - 1)


def test_greedy_completion_equals_llama2c(client, reference):
    case, n = greedy_case(reference)
    r = client.completions.create(model="stories", prompt=case["prompt"], max_tokens=n, temperature=0)
    assert isinstance(r, lmaas.Completion) and r.object == "text_completion" and r.model == "stories"
    assert r.id.startswith("cmpl-") and r.created > 0
    assert case["prompt"] + r.choices[0].text == case["text"]
    assert r.choices[0].index == 0 and r.choices[0].finish_reason == "length" and r.choices[0].logprobs is None
    assert (r.usage.prompt_tokens, r.usage.completion_tokens, r.usage.total_tokens) == (5, n, 5 + n)


def test_streamed_text_equals_the_whole_answer(client, reference):
    case, n = greedy_case(reference)
    chunks = list(client.completions.create(model="stories", prompt=case["prompt"], max_tokens=n, temperature=0,
                                            stream=True, stream_options={"include_usage": True}))
    assert all(isinstance(c, lmaas.Completion) for c in chunks) and len(chunks) > 10  # token by token
    assert case["prompt"] + "".join(c.choices[0].text for c in chunks if c.choices) == case["text"]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == n
    assert all(c.usage is None for c in chunks[:-1])
    # Sampled: a seed repeats, streamed or not.
    req = dict(model="stories", prompt="The dog", max_tokens=30, temperature=0.8, seed=11)
    whole = client.completions.create(**req)
    streamed = "".join(c.choices[0].text for c in client.completions.create(**req, stream=True))
    assert streamed == whole.choices[0].text and whole.usage.completion_tokens == 30


def test_sampling_options_and_logprobs(client, reference):
    r = client.completions.create(model="stories", prompt="Once upon a time", max_tokens=60, temperature=0,
                                  stop=["Lily"], logprobs=2)
    assert r.choices[0].text == ", there was a little girl named "  # the reference's text, cut before "Lily"
    assert r.choices[0].finish_reason == "stop"
    lp = r.choices[0].logprobs
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset) > 0
    assert all(len(top) == 2 and max(top.values()) == pytest.approx(p, abs=1e-5)
               for top, p in zip(lp.top_logprobs, lp.token_logprobs))
    many = client.completions.create(model="stories", prompt=["Lily and Tom", "The dog"], max_tokens=8, n=2,
                                     temperature=1.0, seed=5, top_k=40, min_p=0.01, repetition_penalty=1.1)
    assert [c.index for c in many.choices] == [0, 1, 2, 3]
    ids = [1, 403, 407, 261, 378]  # "Once upon a time" as llama2.c tokenizes it
    assert client.completions.create(model="stories", prompt=ids, max_tokens=3, temperature=0).choices[0].text == \
        ", there was"


def test_chat_plain_and_streamed(client):
    req = dict(model="stories", messages=[{"role": "system", "content": "Be kind."},
                                          {"role": "user", "content": "Tell me a story"}],
               max_tokens=20, temperature=0.7, seed=3)
    whole = client.chat.completions.create(**req, logprobs=True, top_logprobs=2)
    assert isinstance(whole, lmaas.ChatCompletion) and whole.object == "chat.completion"
    choice = whole.choices[0]
    assert choice.message.role == "assistant" and isinstance(choice.message.content, str)
    assert choice.finish_reason in ("stop", "length")
    assert len(choice.logprobs.content) == whole.usage.completion_tokens
    assert all(len(t.top_logprobs) == 2 and t.bytes == list(t.token.encode()) for t in choice.logprobs.content)
    with client.chat.completions.create(**req, stream=True) as stream:
        chunks = list(stream)
    assert all(isinstance(c, lmaas.ChatCompletionChunk) and c.object == "chat.completion.chunk" for c in chunks)
    assert (chunks[0].choices[0].delta.role, chunks[0].choices[0].delta.content) == ("assistant", "")
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == choice.message.content
    assert chunks[-1].choices[0].finish_reason == choice.finish_reason
    assert len({c.id for c in chunks}) == 1


def test_tokenize_and_detokenize(client, reference):
    case = reference["cases"][1]
    t = client.tokenize("stories", case["prompt"])
    assert isinstance(t, lmaas.TokenizeResponse)
    assert t.tokens == case["prompt_token_ids"] and t.count == 5 and t.model == "stories" and t.max_model_len == 512
    pieces = client.tokenize("stories", "Once upon", add_special=False, with_pieces=True).tokens
    assert pieces == [lmaas.TokenPiece(403, " Once"), lmaas.TokenPiece(407, " upon")]
    assert client.detokenize("stories", case["token_ids_after_bos"]) == case["text"]
    assert client.detokenize("stories", [1] + case["prompt_token_ids"][1:], skip_special=True) == case["prompt"]


def test_errors_are_exceptions_by_status(client):
    with pytest.raises(lmaas.NotFoundError) as e:
        client.completions.create(model="nope", prompt="x")
    assert e.value.status == 404 and e.value.param == "model"
    with pytest.raises(lmaas.InvalidRequestError) as e:  # raised by create(), before any chunk
        client.chat.completions.create(model="stories", messages=[{"role": "user", "content": "hi"}], temperature=3,
                                       stream=True)
    assert e.value.status == 400 and e.value.param == "temperature"
    with pytest.raises(lmaas.InvalidRequestError) as e:
        client.completions.create(model="sent-en", prompt="x")
    assert e.value.code == "wrong_model_task"
    with pytest.raises(lmaas.InvalidRequestError) as e:
        client.completions.create(model="stories", prompt="x" * 10, max_tokens=600)
    assert e.value.param == "max_tokens"
    with pytest.raises(lmaas.InvalidRequestError) as e:
        client.detokenize("stories", [99999])
    assert e.value.param == "tokens"
    with pytest.raises(lmaas.InvalidRequestError) as e:
        client.chat.completions.create(model="stories", messages=[{"role": "user", "content": "hi"}],
                                       extra_body={"tools": [{"type": "function"}]})
    assert e.value.code == "unsupported_parameter"


def metric(client, name, model):
    m = re.search(r'^%s\{model="%s"\} (\S+)$' % (name, model), client.metrics(), re.M)
    return float(m.group(1)) if m else 0.0


def test_a_stream_closed_early_stops_the_generation(client):
    before = metric(client, "lmaas_llm_generated_tokens_total", "slow")
    stream = client.completions.create(model="slow", prompt="Once", max_tokens=2000, ignore_eos=True, stream=True)
    got = [next(stream) for _ in range(3)]
    # While the stream holds its connection, this thread's other calls use another one.
    assert client.tokenize("stories", "Once").count == 2
    stream.close()
    assert all(len(c.choices) == 1 for c in got)
    deadline = time.time() + 20
    while metric(client, "lmaas_llm_running_sequences", "slow") > 0 and time.time() < deadline:
        time.sleep(0.1)
    assert metric(client, "lmaas_llm_running_sequences", "slow") == 0
    generated = metric(client, "lmaas_llm_generated_tokens_total", "slow") - before
    assert 3 <= generated < 1000, generated  # stopped, not run to max_tokens
    with pytest.raises(StopIteration):
        next(stream)


def test_threads_stream_at_once(client, reference):
    case, n = greedy_case(reference)
    texts, failures = [None] * 4, []

    def work(i):
        try:
            chunks = client.completions.create(model="stories", prompt=case["prompt"], max_tokens=n, temperature=0,
                                               stream=True)
            texts[i] = "".join(c.choices[0].text for c in chunks)
        except Exception as e:  # reported below
            failures.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures and all(case["prompt"] + t == case["text"] for t in texts)
