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
        'jinja2>=3.0',
    ],
    extras_require={
        'test': ['pytest>=7', 'pytest-timeout>=2.1'],
    },
    include_package_data=True,
)
