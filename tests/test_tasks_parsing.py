"""The reply format is parsed leniently but never guesses at a bare literal."""

from azr.tasks.parsing import answer_block, answer_region, blocks_of, fences, program_in, unfence


def test_answer_block_tolerates_whitespace_case_and_missing_close():
    assert answer_block("<think>x</think>\n< Answer >  [1, 2]  </ANSWER>") == "[1, 2]"
    assert answer_block("<think>x</think><answer>\n42\n") == "42"
    assert answer_block("no tags here: 42") is None


def test_answer_opened_by_the_prompt_ends_at_the_first_close():
    assert answer_block(" 'CAT'</answer> and then more </answer>") == "'CAT'"
    assert answer_block("\n[1]\n</answer>\n\n<answer>\n[2]\n</answer>\n<answer>[3") == "[1]"
    assert answer_block("<think>upper case</think> 'CAT' </answer>") == "'CAT'"


def test_last_answer_block_wins_over_one_echoed_in_reasoning():
    text = "<think>the format is <answer>X</answer></think><answer>7</answer>"
    assert answer_block(text) == "7"


def test_fenced_literal_inside_answer_is_unwrapped():
    assert unfence(answer_block("<answer>\n```python\n[1, 2]\n```\n</answer>")) == "[1, 2]"
    assert unfence("`'abc'`") == "'abc'"


def test_fences_resolve_aliases_and_run_to_the_end_when_unclosed():
    text = "```py\ndef f(a):\n    return a\n```\n```inputs\n3\n```\n```input\n[1,\n 2]"
    assert [(f.language, f.body) for f in fences(text)] == [
        ("python", "def f(a):\n    return a"),
        ("input", "3"),
        ("input", "[1,\n 2]"),
    ]


def test_region_without_answer_tag_skips_the_reasoning():
    text = "<think>```python\ndef f(a): return 0\n```</think>\n```python\ndef f(a): return 1\n```"
    assert program_in(answer_region(text)) == "def f(a): return 1"


def test_untagged_fence_is_a_program_only_when_no_python_fence_exists():
    assert program_in("```\ndef f(a): return 2\n```") == "def f(a): return 2"
    assert program_in("```\nnot it\n```\n```python\ndef f(a): return 3\n```") == "def f(a): return 3"
    assert blocks_of("```message\n   \n```", "message") == []
