"""Class names of the text classification datasets the txtcls data tools read, by label id."""

labels = {
    'cola': ['unacceptable', 'acceptable'],
    'sst_2': ['negative', 'positive'],
    'imdb': ['negative', 'positive'],
    'ag_news': ['World', 'Sports', 'Business', 'Sci/Tech'],
    'mnli': ['contradiction', 'entailment', 'neutral'],   # BERT's MNLI processor order
}
