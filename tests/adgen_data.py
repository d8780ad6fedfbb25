"""Test data for the GLM families: ADGEN-style JSON lines made here, and a ChatGLM2-style sentencepiece model
trained on them (identity normalisation, kept whitespace, byte fallback, and the dummy-prefix '▁' a piece of its
own, so that Chinese text starts with '▁' as it does with ChatGLM2-6B's model: 30910)."""
import io
import json
import random

KEYS = {'类型': ['裙', '裤', '上衣', '外套'], '颜色': ['红色', '白色', '黑色', '蓝色'],
        '风格': ['简约', '复古', '休闲', '性感'], '图案': ['条纹', '格子', '纯色', '印花']}


def adgen_rows(count, seed):
    """{'content': '类型#裙*颜色#红色*...', 'summary': '这款红色裙，...'}: the summary follows from the content."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        value = {key: rng.choice(values) for key, values in KEYS.items()}
        rows.append({'content': '*'.join(f'{key}#{value[key]}' for key in KEYS),
                     'summary': f"这款{value['颜色']}{value['类型']}，{value['风格']}的设计，{value['图案']}图案很好看。"})
    return rows


def write_adgen(path, rows):
    with open(path, 'w', encoding='utf-8') as stream:
        for row in rows:
            stream.write(json.dumps(row, ensure_ascii=False) + '\n')
    return str(path)


def train_glm_tokenizer(path, rows, vocab_size=360):
    import sentencepiece as spm  # pylint: disable=import-outside-toplevel
    lines = [r['content'] for r in rows] + [r['summary'] for r in rows] + ['[Round 1]\n\n问：\n\n答：']
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model, vocab_size=vocab_size,
                                   model_type='bpe', character_coverage=1.0, byte_fallback=True,
                                   normalization_rule_name='identity', remove_extra_whitespaces=False,
                                   user_defined_symbols=['\u2581'], minloglevel=2)
    with open(path, 'wb') as stream:
        stream.write(model.getvalue())
    return str(path)


# the ChatGLM-6B pieces its tokenizer needs, in ice_text.model's order after <unk> <s> </s> <pad>
CHATGLM_SYMBOLS = (['\u2581', '<n>', '<|tab|>'] + [f'<|blank_{n}|>' for n in range(2, 81)] +
                   ['[MASK]', '[gMASK]', '[sMASK]', '<unused_0>', '<sop>', '<eop>', '<ENC>', '<dBLOCK>'])


def train_chatglm_tokenizer(path, rows, vocab_size=450, extra_lines=()):
    """A ChatGLM-6B-style model: <pad> is id 3, the GLM specials and the whitespace pieces are pieces of it."""
    import sentencepiece as spm  # pylint: disable=import-outside-toplevel
    lines = [r['content'] for r in rows] + [r['summary'] for r in rows] + ['[Round 0]<n>问：<n>答：'] + \
        list(extra_lines)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_writer=model, vocab_size=vocab_size,
                                   model_type='bpe', character_coverage=1.0, byte_fallback=True,
                                   normalization_rule_name='identity', remove_extra_whitespaces=False,
                                   pad_id=3, pad_piece='<pad>', user_defined_symbols=CHATGLM_SYMBOLS, minloglevel=2)
    with open(path, 'wb') as stream:
        stream.write(model.getvalue())
    return str(path)


def train_pangu_tokenizer(path, lines, vocab_size=400):
    """A PanGu-Alpha-style model trained on the jieba-segmented lines: <pad> 3, then <eod> 4, '▂' (space) and
    '▃' (newline) as pieces of their own."""
    import sentencepiece as spm  # pylint: disable=import-outside-toplevel
    from mindformers.models.pangualpha.pangualpha_tokenizer import \
        PanguAlphaTokenizer  # pylint: disable=import-outside-toplevel
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter([PanguAlphaTokenizer.segment(line) for line in lines]),
                                   model_writer=model, vocab_size=vocab_size, model_type='bpe',
                                   character_coverage=1.0, byte_fallback=True, pad_id=3, pad_piece='<pad>',
                                   normalization_rule_name='identity',
                                   user_defined_symbols=['<eod>', '\u2582', '\u2583'], minloglevel=2)
    with open(path, 'wb') as stream:
        stream.write(model.getvalue())
    return str(path)
