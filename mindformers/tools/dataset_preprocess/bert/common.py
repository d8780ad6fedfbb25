"""What the BERT data tools share: the tokenizer arguments."""
from mindformers.tools.dataset_preprocess.common import parse_bool


def add_bert_tokenizer_args(parser, default_name='bert_base_uncased', lower_case='True'):
    """--vocab_file / --tokenizer_type / --do_lower_case of the BERT data tools."""
    parser.add_argument('--vocab_file', type=str, default=None,
                        help='the WordPiece vocab.txt (else the one cached for --tokenizer_type)')
    parser.add_argument('--tokenizer_type', type=str, default=default_name,
                        help='model name whose cached vocabulary is used when --vocab_file is not given')
    parser.add_argument('--do_lower_case', type=str, default=lower_case,
                        help='lower-case and strip accents (True for uncased vocabularies)')


def bert_tokenizer(args, **options):
    """The BertTokenizer of --vocab_file, else of the files cached for --tokenizer_type (`options` such as
    is_tokenize_char=True go to the tokenizer)."""
    from mindformers.models.bert.bert_tokenizer import BertTokenizer  # pylint: disable=import-outside-toplevel
    lower = parse_bool('--do_lower_case', args.do_lower_case)
    if args.vocab_file:
        return BertTokenizer(vocab_file=args.vocab_file, do_lower_case=lower, **options)
    from mindformers.auto_class import AutoTokenizer  # pylint: disable=import-outside-toplevel
    folder = AutoTokenizer.named_vocab_folder(args.tokenizer_type, BertTokenizer)
    return BertTokenizer.from_pretrained(folder, do_lower_case=lower, **options)
