"""Label names by id: the text classification datasets the txtcls data tools read, the image classification
datasets (MNIST, CIFAR-10, ImageNet-1k), and CLUENER's BIOS tags."""
from mindformers.dataset.imagenet_labels import IMAGENET_LABELS

labels = {
    'cola': ['unacceptable', 'acceptable'],
    'sst_2': ['negative', 'positive'],
    'imdb': ['negative', 'positive'],
    'ag_news': ['World', 'Sports', 'Business', 'Sci/Tech'],
    'mnli': ['contradiction', 'entailment', 'neutral'],   # BERT's MNLI processor order
    'mnist': [str(digit) for digit in range(10)],
    # MNIST's digits as words: the class names of CLIP captions and zero-shot prompts
    'mnist_words': ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'],
    'cifar10': ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'],
    'imagenet': list(IMAGENET_LABELS),
}

# CLUENER2020's ten entity types; token classification labels are BIOS tags of them, by id:
# 0 'O', 1-10 'B-<type>', 11-20 'I-<type>', 21-30 'S-<type>' (31 labels, upstream's order)
cluener_types = ['address', 'book', 'company', 'game', 'government', 'movie', 'name', 'organization', 'position',
                 'scene']
cluener_labels = ['O'] + [f'{tag}-{kind}' for tag in ('B', 'I', 'S') for kind in cluener_types]
