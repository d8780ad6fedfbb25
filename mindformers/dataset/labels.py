"""Class names of the text classification datasets the gpt2 txtcls data tool reads, by label id."""

labels = {
    'cola': ['unacceptable', 'acceptable'],
    'sst_2': ['negative', 'positive'],
    'imdb': ['negative', 'positive'],
    'ag_news': ['World', 'Sports', 'Business', 'Sci/Tech'],
}
