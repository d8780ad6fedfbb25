"""QuestionAnsweringPipeline: (context, question) -> BERT start/end logits over context windows -> answer spans."""
import numpy as np
import mindspore as ms

from mindformers.dataset.dataloader.squad_dataloader import (MAX_SEQ_LEN, best_answers, convert_examples_to_features,
                                                             group_features)
from mindformers.pipeline.base_pipeline import BasePipeline
from mindformers.tools.errors import ConfigError, DatasetError
from mindformers.tools.register import MindFormerRegister, MindFormerModuleType

__all__ = ['QuestionAnsweringPipeline']

_PREPROCESS_KEYS = ('doc_stride', 'max_question_len', 'max_seq_len')
_POSTPROCESS_KEYS = ('top_k', 'n_best_size', 'max_answer_len')


def _split(item):
    """(context, question) of "context - question" (split at the last ' - ', else the last '-') or a dict."""
    if isinstance(item, dict):
        context, question = item.get('context'), item.get('question')
    elif isinstance(item, str):
        separator = ' - ' if ' - ' in item else '-'
        if separator not in item:
            raise ConfigError("QuestionAnsweringPipeline: an input is \"context - question\" (or {'context': ..., "
                              "'question': ...}); this one has no '-'")
        context, _, question = item.rpartition(separator)
    else:
        raise ConfigError(f"QuestionAnsweringPipeline: inputs are \"context - question\" strings or "
                          f"{{'context', 'question'}} dicts, got {type(item).__name__}")
    if not isinstance(context, str) or not isinstance(question, str) or not context.strip() or \
            not question.strip():
        raise ConfigError("QuestionAnsweringPipeline: an input needs a non-empty context and question")
    return context.strip(), question.strip()


@MindFormerRegister.register(MindFormerModuleType.PIPELINE, alias='question_answering')
class QuestionAnsweringPipeline(BasePipeline):
    """`pipeline('question_answering', model=<BertForQuestionAnswering>, tokenizer=<BertTokenizer>)(
    "My name is Wolfgang and I live in Berlin - Where do I live?")` -> `[{'text': 'Berlin', 'score': ...,
    'start': 34, 'end': 40}]`: the `top_k` best answers, `start`/`end` character offsets of the context (end
    exclusive, `text == context[start:end]`), `score` the softmax over the n-best of the start + end logits.

    An input is "context - question" (split at the last " - ") or `{'context': ..., 'question': ...}`; one input
    gives its list of answers, a list of inputs one list each. Contexts longer than a window are read in windows
    of `max_seq_len` tokens (default: the model's seq_length), `doc_stride` tokens apart (default 128, or a third
    of a shorter window), as SQuAD evaluation.
    """

    def __init__(self, model, tokenizer=None, doc_stride=None, max_question_len=64, max_seq_len=None, top_k=1,
                 n_best_size=20, max_answer_len=30, **kwargs):
        if tokenizer is None or not hasattr(tokenizer, 'tokenize_with_offsets'):
            raise ConfigError("QuestionAnsweringPipeline needs tokenizer=<BertTokenizer>")
        max_seq_len = max_seq_len or getattr(getattr(model, 'config', None), 'seq_length', None) or MAX_SEQ_LEN
        doc_stride = doc_stride or min(128, max(1, max_seq_len // 3))   # upstream's 128 for 384-token windows
        super().__init__(model, tokenizer, doc_stride=doc_stride, max_question_len=max_question_len,
                         max_seq_len=max_seq_len, top_k=top_k, n_best_size=n_best_size,
                         max_answer_len=max_answer_len, **kwargs)

    def _sanitize_parameters(self, **kwargs):
        preprocess = {key: int(kwargs.pop(key)) for key in _PREPROCESS_KEYS if kwargs.get(key) is not None}
        postprocess = {key: int(kwargs.pop(key)) for key in _POSTPROCESS_KEYS if kwargs.get(key) is not None}
        unknown = sorted(k for k, v in kwargs.items() if v is not None)
        if unknown:
            raise ConfigError(f"QuestionAnsweringPipeline: unknown arguments {unknown}; it takes "
                              f"{list(_PREPROCESS_KEYS + _POSTPROCESS_KEYS)}")
        if 'doc_stride' in preprocess and 'max_seq_len' in preprocess and \
                preprocess['doc_stride'] > preprocess['max_seq_len']:
            raise ConfigError(f"QuestionAnsweringPipeline: doc_stride ({preprocess['doc_stride']}) is larger than "
                              f"max_seq_len ({preprocess['max_seq_len']})")
        for key in _POSTPROCESS_KEYS:
            if key in postprocess and postprocess[key] < 1:
                raise ConfigError(f"QuestionAnsweringPipeline: {key} must be >= 1, got {postprocess[key]}")
        return preprocess, {}, postprocess

    def __call__(self, inputs=None, batch_size=None, **kwargs):
        single = isinstance(inputs, (str, dict))
        outputs = super().__call__([inputs] if single else inputs, batch_size=batch_size, **kwargs)
        return outputs[0] if single else outputs

    def preprocess(self, inputs, doc_stride=128, max_question_len=64, max_seq_len=MAX_SEQ_LEN):
        examples = []
        for number, item in enumerate(inputs):
            context, question = _split(item)
            examples.append({'qas_id': str(number), 'question': question, 'context': context, 'answers': []})
        try:
            features = convert_examples_to_features(examples, self.tokenizer, max_seq_len, max_question_len,
                                                    doc_stride, is_training=False)
        except DatasetError as err:
            raise ConfigError(f"QuestionAnsweringPipeline: {err}") from None
        return {'examples': examples, 'features': features}

    def forward(self, model_inputs, **forward_params):
        features = model_inputs['features']
        columns = [ms.Tensor(np.array([f[key] for f in features], np.int32))
                   for key in ('input_ids', 'input_mask', 'token_type_id')]
        start_logits, end_logits = self.network(*columns)
        starts, ends = start_logits.asnumpy().astype(np.float64), end_logits.asnumpy().astype(np.float64)
        results = {f['unique_id']: (start, end) for f, start, end in zip(features, starts, ends)}
        return dict(model_inputs, results=results)

    def postprocess(self, model_outputs, top_k=1, n_best_size=20, max_answer_len=30):
        outputs = []
        by_example = group_features(model_outputs['features'])
        for index, example in enumerate(model_outputs['examples']):
            answers = best_answers(example, by_example.get(index, []), model_outputs['results'], n_best_size,
                                   max_answer_len)
            outputs.append([dict(answer, score=round(answer['score'], 4)) for answer in answers[:top_k]])
        return outputs


MindFormerRegister.register_cls(QuestionAnsweringPipeline, MindFormerModuleType.PIPELINE)
