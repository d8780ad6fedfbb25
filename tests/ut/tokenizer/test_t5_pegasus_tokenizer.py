"""T5PegasusTokenizer: jieba words found in the vocabulary stay whole, other words take BERT's tokenization; BERT's
special tokens and segments; decoding joins tokens with spaces (upstream)."""
from mindformers import BertTokenizer, T5PegasusTokenizer

VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '我', '爱', '北京', '天', '安', '门', '，', 'hello', '##s',
         '北', '京', '今天', '今']


def test_jieba_words_in_the_vocabulary_stay_whole(tmp_path):
    (tmp_path / 'vocab.txt').write_text('\n'.join(VOCAB) + '\n', encoding='utf-8')
    tokenizer = T5PegasusTokenizer(str(tmp_path / 'vocab.txt'))
    bert = BertTokenizer(str(tmp_path / 'vocab.txt'))
    assert tokenizer.tokenize('我爱北京天安门') == ['我', '爱', '北京', '天', '安', '门']
    assert bert.tokenize('我爱北京天安门') == ['我', '爱', '北', '京', '天', '安', '门']
    assert tokenizer.tokenize('Hellos，今天') == ['hello', '##s', '，', '今天']
    encoded = tokenizer('我爱北京', '今天')
    assert encoded['input_ids'] == [2, 5, 6, 7, 3, 16, 3] and encoded['token_type_ids'] == [0, 0, 0, 0, 0, 1, 1]
    assert tokenizer.decode(encoded['input_ids'], skip_special_tokens=True) == '我 爱 北京 今天'
    custom = T5PegasusTokenizer(str(tmp_path / 'vocab.txt'), pre_tokenizer=lambda text: list(text))
    assert custom.tokenize('北京') == ['北', '京']
