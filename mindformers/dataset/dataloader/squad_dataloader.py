"""SQuADDataLoader: SQuAD v1.1 JSON (paragraphs with questions and answer character offsets) as BERT question
answering features: `[CLS] question [SEP] context window [SEP]` rows, one per window of a long context.

The reading, the windowing and the decoding of answers from start/end logits live here once; the dataset, the
SQuADMetric and the question_answering pipeline use them.
"""
import json
import os

import numpy as np

from mindformers.dataset.dataloader.utils import sharded_rows, stage_file
from mindformers.generation.logits_process import softmax
from mindformers.tools.checkpoint import write_text_atomic
from mindformers.tools.errors import DatasetError
from mindformers.tools.logger import logger
from mindformers.tools.register import MindFormerModuleType, MindFormerRegister

__all__ = ['SQuADDataLoader', 'read_squad', 'convert_examples_to_features', 'best_answers', 'group_features',
           'write_squad_temp', 'read_squad_temp', 'FIRST_UNIQUE_ID', 'MAX_SEQ_LEN']

_STAGE_FILES = {'train': 'train-v1.1.json', 'dev': 'dev-v1.1.json'}
FIRST_UNIQUE_ID = 1000000000   # the unique_id of the first feature, as upstream (fits int32)
MAX_SEQ_LEN = 384   # upstream's window length (BERT-base on SQuAD)
TEMP_EXAMPLES, TEMP_FEATURES = 'temp_examples.json', 'temp_features.json'
COLUMNS = ['input_ids', 'input_mask', 'token_type_id', 'start_position', 'end_position', 'unique_id']


def _check_answer(where, context, answer):
    """(start, end) character span of an answer dict {'text', 'answer_start'} in `context` (end exclusive)."""
    if not isinstance(answer, dict) or not isinstance(answer.get('text'), str) or \
            not isinstance(answer.get('answer_start'), int) or isinstance(answer.get('answer_start'), bool):
        raise DatasetError(f"{where}: an answer must be {{'text': str, 'answer_start': int}}, got {answer!r}")
    start, text = answer['answer_start'], answer['text']
    end = start + len(text)
    if not text.strip():
        raise DatasetError(f"{where}: an answer text is empty")
    if start < 0 or end > len(context):
        raise DatasetError(f"{where}: answer '{text}' at offset {start} (to {end}) is outside the context "
                           f"({len(context)} characters)")
    if context[start:end] != text:
        raise DatasetError(f"{where}: the context at offset {start} is '{context[start:end]}', not the answer "
                           f"'{text}'")
    return start, end


def read_squad(path, is_training):
    """The questions of a SQuAD-format JSON file as examples `{qas_id, question, context, answers}`.

    Every answer is checked against its context (offsets inside the context, the text found there); a training
    question needs an answer (the first one is trained on). Errors are DatasetErrors naming the file and the
    question id."""
    try:
        with open(path, encoding='utf-8') as stream:
            document = json.load(stream)
    except ValueError as err:
        raise DatasetError(f"{path} is not JSON: {err}") from None
    articles = document.get('data') if isinstance(document, dict) else None
    if not isinstance(articles, list):
        raise DatasetError(f"{path}: a SQuAD file holds {{'data': [{{'paragraphs': [...]}}, ...]}}")
    examples = []
    for article_index, article in enumerate(articles):
        paragraphs = article.get('paragraphs') if isinstance(article, dict) else None
        if not isinstance(paragraphs, list):
            raise DatasetError(f"{path}: data[{article_index}] has no 'paragraphs' list")
        for paragraph in paragraphs:
            context = paragraph.get('context') if isinstance(paragraph, dict) else None
            if not isinstance(context, str) or not isinstance(paragraph.get('qas'), list):
                raise DatasetError(f"{path}: a paragraph of data[{article_index}] needs a 'context' string and a "
                                   f"'qas' list")
            for qa in paragraph['qas']:
                qas_id = qa.get('id') if isinstance(qa, dict) else None
                where = f"{path} question {qas_id!r}"
                if qas_id is None or not isinstance(qa.get('question'), str) or not qa['question'].strip():
                    raise DatasetError(f"{where}: a question needs an 'id' and a non-empty 'question' string")
                answers = qa.get('answers') or []
                if not isinstance(answers, list):
                    raise DatasetError(f"{where}: 'answers' must be a list")
                spans = [_check_answer(where, context, answer) for answer in answers]
                if is_training and not spans:
                    raise DatasetError(f"{where}: has no answer; every training question needs one")
                examples.append({'qas_id': str(qas_id), 'question': qa['question'], 'context': context,
                                 'answers': [{'text': a['text'], 'answer_start': a['answer_start']}
                                             for a in answers]})
    if not examples:
        raise DatasetError(f"{path} holds no questions")
    return examples


def _windows(doc_length, room, doc_stride):
    """[(start, length), ...]: windows of at most `room` context tokens, each `doc_stride` after the previous,
    the last one reaching the end."""
    windows, start = [], 0
    while True:
        length = min(doc_length - start, room)
        windows.append((start, length))
        if start + length >= doc_length:
            return windows
        start += min(length, doc_stride)


def _max_context(windows, window_index, position):
    """Whether window `window_index` gives context token `position` its most context (the fewest tokens on its
    shorter side, with a small bonus for longer windows): only there may an answer start."""
    best_score, best_index = None, None
    for index, (start, length) in enumerate(windows):
        end = start + length - 1
        if not start <= position <= end:
            continue
        score = min(position - start, end - position) + 0.01 * length
        if best_score is None or score > best_score:
            best_score, best_index = score, index
    return best_index == window_index


def _answer_tokens(where, offsets, start, end):
    """First and last context token overlapping the characters [start, end)."""
    covered = [i for i, (low, high) in enumerate(offsets) if low < end and high > start]
    if not covered:
        raise DatasetError(f"{where}: the answer at offset {start} covers no token")
    return covered[0], covered[-1]


def convert_examples_to_features(examples, tokenizer, max_seq_len=MAX_SEQ_LEN, max_question_len=64, doc_stride=128,
                                 is_training=True, first_unique_id=FIRST_UNIQUE_ID):
    """Examples -> features, one per window of each context: `input_ids, input_mask, token_type_id` (padded to
    `max_seq_len`), `start_position, end_position` (token indices of the first answer; 0 and 0 when it lies
    outside the window, or when not training), `unique_id`, and for decoding `example_index`, `tokens`,
    `token_to_orig_map` (feature token -> (start, end) characters of the context) and `token_is_max_context`.

    The question keeps its first `max_question_len` tokens; a question that leaves no room for context in
    `max_seq_len` is a DatasetError naming it."""
    if doc_stride < 1 or max_question_len < 1:
        raise DatasetError(f"SQuAD: doc_stride ({doc_stride}) and max_question_len ({max_question_len}) must be >= 1")
    cls, sep = str(tokenizer.cls_token), str(tokenizer.sep_token)
    pad_id = tokenizer.pad_token_id
    features = []
    for example_index, example in enumerate(examples):
        where = f"question {example.get('qas_id')!r}"
        question = tokenizer.tokenize(example['question'])[:max_question_len]
        room = max_seq_len - len(question) - 3
        if room <= 0:
            raise DatasetError(f"{where}: max_seq_len {max_seq_len} leaves no room for the context after its "
                               f"{len(question)} question tokens; raise max_seq_len (model seq_length) or lower "
                               f"max_question_len")
        doc_tokens, doc_offsets = tokenizer.tokenize_with_offsets(example['context'])
        answer = None
        if is_training:
            first = example['answers'][0]
            answer = _answer_tokens(where, doc_offsets, first['answer_start'],
                                    first['answer_start'] + len(first['text']))
        windows = _windows(len(doc_tokens), room, doc_stride)
        offset = len(question) + 2
        for window_index, (start, length) in enumerate(windows):
            tokens = [cls] + question + [sep] + doc_tokens[start:start + length] + [sep]
            ids = tokenizer.convert_tokens_to_ids(tokens)
            padding = max_seq_len - len(ids)
            start_position = end_position = 0
            if answer is not None and start <= answer[0] and answer[1] < start + length:
                start_position, end_position = answer[0] - start + offset, answer[1] - start + offset
            features.append({
                'unique_id': first_unique_id + len(features), 'example_index': example_index,
                'doc_span_index': window_index, 'tokens': tokens,
                'token_to_orig_map': {offset + i: list(doc_offsets[start + i]) for i in range(length)},
                'token_is_max_context': {offset + i: _max_context(windows, window_index, start + i)
                                         for i in range(length)},
                'input_ids': list(ids) + [pad_id] * padding, 'input_mask': [1] * len(ids) + [0] * padding,
                'token_type_id': [0] * offset + [1] * (length + 1) + [0] * padding,
                'start_position': start_position, 'end_position': end_position})
    return features


def _best_indexes(logits, n_best_size):
    return [int(i) for i in np.argsort(-np.asarray(logits, np.float64), kind='stable')[:n_best_size]]


def group_features(features):
    """{example_index: [its features]} (the windows of each example, in order)."""
    grouped = {}
    for feature in features:
        grouped.setdefault(feature['example_index'], []).append(feature)
    return grouped


def best_answers(example, features, results, n_best_size=20, max_answer_len=30):
    """The n-best answers of one example: `[{'text', 'score', 'start', 'end'}]` best first, `score` the softmax of
    start + end logits over the n-best, `start`/`end` character offsets of `example['context']` (end exclusive).

    `results` maps unique_id -> (start_logits, end_logits). A span must lie in the context, start where its window
    gives that token the most context, end at or after its start and hold at most `max_answer_len` tokens; the
    text of each span is the context's own characters (case, accents and spaces kept)."""
    candidates = []
    for feature in features:
        if feature['unique_id'] not in results:
            continue
        start_logits, end_logits = results[feature['unique_id']]
        spans = feature['token_to_orig_map']
        ends = _best_indexes(end_logits, n_best_size)
        for start in _best_indexes(start_logits, n_best_size):
            if start not in spans or not feature['token_is_max_context'].get(start, False):
                continue
            for end in ends:
                if end not in spans or end < start or end - start + 1 > max_answer_len:
                    continue
                candidates.append((float(start_logits[start]) + float(end_logits[end]), spans[start][0],
                                   spans[end][1]))
    candidates.sort(key=lambda c: -c[0])
    seen, best = set(), []
    context = example['context']
    for score, start, end in candidates:
        text = context[start:end]
        if text in seen:
            continue
        seen.add(text)
        best.append({'text': text, 'logit': score, 'start': start, 'end': end})
        if len(best) >= n_best_size:
            break
    if not best:   # no span fits (e.g. every window was cut off): an empty answer, as upstream's fallback
        return [{'text': '', 'score': 0.0, 'start': 0, 'end': 0}]
    for entry, probability in zip(best, softmax(np.array([entry.pop('logit') for entry in best]))):
        entry['score'] = float(probability)
    return best


def write_squad_temp(temp_file_dir, examples, features):
    """The examples and features SQuADMetric decodes with, as JSON lines in `temp_file_dir` (upstream's
    temp_examples.json / temp_features.json), each written atomically."""
    kept = ('unique_id', 'example_index', 'token_to_orig_map', 'token_is_max_context')
    for name, rows in ((TEMP_EXAMPLES, examples), (TEMP_FEATURES, [{k: f[k] for k in kept} for f in features])):
        text = ''.join(json.dumps(row, ensure_ascii=False) + '\n' for row in rows)
        write_text_atomic(os.path.join(temp_file_dir, name), text, 'SQuAD eval data')


def read_squad_temp(temp_file_dir):
    """(examples, features) written by `write_squad_temp`; the token keys turn back into ints."""
    loaded = []
    for name in (TEMP_EXAMPLES, TEMP_FEATURES):
        path = os.path.join(temp_file_dir, name)
        if not os.path.isfile(path):
            raise DatasetError(f"SQuADMetric: {path} does not exist; it is written when the eval dataset "
                               f"(SQuADDataLoader, stage dev, temp_file_dir {temp_file_dir}) is made, so evaluate "
                               f"with that dataset")
        with open(path, encoding='utf-8') as stream:
            loaded.append([json.loads(line) for line in stream if line.strip()])
    examples, features = loaded
    for feature in features:
        for key in ('token_to_orig_map', 'token_is_max_context'):
            feature[key] = {int(k): v for k, v in feature[key].items()}
    return examples, features


@MindFormerRegister.register(MindFormerModuleType.DATASET_LOADER)
class SQuADDataLoader:
    """`SQuADDataLoader(dataset_dir, tokenizer, column_names, stage='train', max_question_len=64, max_seq_len=384,
    doc_stride=128)` -> a GeneratorDataset of int32 feature rows `input_ids, input_mask, token_type_id,
    start_position, end_position, unique_id` (upstream's columns).

    dataset_dir is the SQuAD folder (train-v1.1.json for stage train, dev-v1.1.json for dev) or one file. Stage
    dev also writes the examples and features to `temp_file_dir` (default ./squad_temp, as upstream), where
    SQuADMetric reads them to turn logits back into answer text.
    """

    def __new__(cls, dataset_dir=None, tokenizer=None, column_names=None, stage='train', max_question_len=64,
                max_seq_len=MAX_SEQ_LEN, doc_stride=128, temp_file_dir='./squad_temp', shuffle=None, num_shards=None,
                shard_id=None, **kwargs):
        del kwargs   # other upstream loader keys change nothing here
        if stage not in _STAGE_FILES:
            raise DatasetError(f"SQuADDataLoader: stage must be one of {list(_STAGE_FILES)}, got {stage!r}")
        if tokenizer is None or not hasattr(tokenizer, 'tokenize_with_offsets'):
            raise DatasetError("SQuADDataLoader needs a BertTokenizer (the dataset section's `tokenizer`)")
        column_names = list(column_names or COLUMNS)
        if len(column_names) != len(COLUMNS):
            raise DatasetError(f"SQuADDataLoader: column_names must name the {len(COLUMNS)} feature columns "
                               f"{COLUMNS}, got {column_names!r}")
        path = stage_file('SQuADDataLoader', dataset_dir, _STAGE_FILES[stage], 'the SQuAD folder '
                          '(train-v1.1.json / dev-v1.1.json)')
        training = stage == 'train'
        examples = read_squad(path, is_training=training)
        features = convert_examples_to_features(examples, tokenizer, int(max_seq_len), int(max_question_len),
                                                int(doc_stride), is_training=training)
        if not training:
            write_squad_temp(temp_file_dir, examples, features)
        rows = [tuple(np.array(f[c], np.int32) for c in COLUMNS) for f in features]
        shuffle = training if shuffle is None else bool(shuffle)
        logger.info("SQuAD %s: %d questions -> %d features of %d tokens from %s, shuffle %s", stage, len(examples),
                    len(rows), max_seq_len, path, shuffle)
        return sharded_rows(rows, column_names, shuffle, num_shards, shard_id)
