"""Checkpoints named as upstream MindFormers r1.0 writes them load into our ViT, ViTMAE, Swin and CLIP: every tensor
lands on its parameter (transposed where upstream stores (in, out), CLIP's fused q/k/v `in_proj` split in three),
upstream's buffers (Swin's relative position index and shifted-window masks) are dropped, and the loaded model
gives the source model's outputs. The upstream names are written out literally here, from upstream's model code
(vit.py, mae.py, swin_modules.py, clip_modules.py), not derived from our converters."""
import mindspore as ms
import numpy as np
import pytest

from mindformers import (CLIPConfig, CLIPModel, SwinConfig, SwinForImageClassification, ViTConfig,
                         ViTForImageClassification, ViTMAEConfig, ViTMAEForPreTraining)

pytestmark = pytest.mark.usefixtures('pynative')


def vit_block(prefix, ours):
    """upstream's shared block (layernorm1/2, dense1-3, projection, output.mapping/projection) -> ours"""
    names = {}
    for norm, our_norm in (('layernorm1', 'attention_norm'), ('layernorm2', 'ffn_norm')):
        names[f'{prefix}{norm}.gamma'] = (f'{ours}{our_norm}.weight', False)
        names[f'{prefix}{norm}.beta'] = (f'{ours}{our_norm}.bias', False)
    for dense, proj in (('dense1', 'wq'), ('dense2', 'wk'), ('dense3', 'wv')):
        for kind in ('weight', 'bias'):
            names[f'{prefix}attention.{dense}.{kind}'] = (f'{ours}attention.{proj}.{kind}', False)
    for theirs, ours_part in (('attention.projection', 'attention.wo'), ('output.mapping', 'feed_forward.w1'),
                              ('output.projection', 'feed_forward.w2')):
        names[f'{prefix}{theirs}.weight'] = (f'{ours}{ours_part}.weight', True)     # stored (in, out)
        names[f'{prefix}{theirs}.bias'] = (f'{ours}{ours_part}.bias', False)
    return names


def vit_table(layers):
    table = {'vit.cls_tokens': ('vit.cls_tokens', False), 'vit.pos_embed': ('vit.pos_embed', False),
             'vit.patch_embed.proj.weight': ('vit.patch_embed.proj.weight', False),
             'vit.patch_embed.proj.bias': ('vit.patch_embed.proj.bias', False),
             'vit.fc_norm.gamma': ('vit.fc_norm.weight', False), 'vit.fc_norm.beta': ('vit.fc_norm.bias', False),
             'head.weight': ('head.weight', False), 'head.bias': ('head.bias', False)}
    for i in range(layers):
        table.update(vit_block(f'vit.blocks.{i}.', f'vit.layers.{i}.'))
    return table


def mae_table(layers, decoder_layers):
    table = {'vit.cls_tokens': ('vit.cls_tokens', False), 'vit.pos_embed': ('vit.pos_embed', False),
             'vit.patch_embed.proj.weight': ('vit.patch_embed.proj.weight', False),
             'vit.patch_embed.proj.bias': ('vit.patch_embed.proj.bias', False),
             'vit.norm.gamma': ('vit.norm.weight', False), 'vit.norm.beta': ('vit.norm.bias', False),
             'mask_tokens': ('decoder.mask_token', False), 'decoder_pos_embed': ('decoder.decoder_pos_embed', False),
             'decoder_embed.weight': ('decoder.decoder_embed.weight', False),
             'decoder_embed.bias': ('decoder.decoder_embed.bias', False),
             'decoder_norm.gamma': ('decoder.decoder_norm.weight', False),
             'decoder_norm.beta': ('decoder.decoder_norm.bias', False),
             'decoder_pred.weight': ('decoder.decoder_pred.weight', False),
             'decoder_pred.bias': ('decoder.decoder_pred.bias', False)}
    for i in range(layers):
        table.update(vit_block(f'vit.blocks.{i}.', f'vit.layers.{i}.'))
    for i in range(decoder_layers):
        table.update(vit_block(f'decoder_blocks.{i}.', f'decoder.decoder_layers.{i}.'))
    return table


def swin_table(depths):
    table = {'encoder.patch_embed.projection.weight': ('swin.patch_embed.proj.weight', False),
             'encoder.patch_embed.projection.bias': ('swin.patch_embed.proj.bias', False),
             'encoder.patch_embed.norm.gamma': ('swin.patch_norm.weight', False),
             'encoder.patch_embed.norm.beta': ('swin.patch_norm.bias', False),
             'encoder.norm.gamma': ('swin.norm.weight', False), 'encoder.norm.beta': ('swin.norm.bias', False),
             'head.weight': ('head.weight', False), 'head.bias': ('head.bias', False)}
    for s, depth in enumerate(depths):
        for i in range(depth):
            up, ours = f'encoder.layers.{s}.blocks.{i}.', f'swin.stages.{s}.blocks.{i}.'
            table[up + 'norm1.gamma'] = (ours + 'attention_norm.weight', False)
            table[up + 'norm1.beta'] = (ours + 'attention_norm.bias', False)
            table[up + 'norm2.gamma'] = (ours + 'ffn_norm.weight', False)
            table[up + 'norm2.beta'] = (ours + 'ffn_norm.bias', False)
            table[up + 'attn.relative_position_bias.relative_position_bias_table'] = (
                ours + 'attention.relative_position_bias_table', False)
            for theirs, our_part in (('q', 'wq'), ('k', 'wk'), ('v', 'wv'), ('proj', 'wo')):
                for kind in ('weight', 'bias'):                           # stored (out, in)
                    table[f'{up}attn.{theirs}.{kind}'] = (f'{ours}attention.{our_part}.{kind}', False)
            for theirs, our_part in (('mapping', 'w1'), ('projection', 'w2')):
                table[f'{up}mlp.{theirs}.weight'] = (f'{ours}feed_forward.{our_part}.weight', True)  # (in, out)
                table[f'{up}mlp.{theirs}.bias'] = (f'{ours}feed_forward.{our_part}.bias', False)
        if s < len(depths) - 1:
            table[f'encoder.layers.{s}.downsample.norm.gamma'] = (f'swin.stages.{s}.downsample.norm.weight', False)
            table[f'encoder.layers.{s}.downsample.norm.beta'] = (f'swin.stages.{s}.downsample.norm.bias', False)
            table[f'encoder.layers.{s}.downsample.reduction.weight'] = (
                f'swin.stages.{s}.downsample.reduction.weight', False)
    return table


def clip_table(vision_layers, text_layers):
    table = {'visual.conv1.weight': ('visual.patch_embed.proj.weight', False),
             'visual.class_embedding': ('visual.class_embedding', False),
             'visual.positional_embedding': ('visual.positional_embedding', False),
             'visual.ln_pre.gamma': ('visual.ln_pre.weight', False),
             'visual.ln_pre.beta': ('visual.ln_pre.bias', False),
             'visual.ln_post.gamma': ('visual.ln_post.weight', False),
             'visual.ln_post.beta': ('visual.ln_post.bias', False), 'visual.proj': ('visual.proj', False),
             'token_embedding.embedding_table': ('token_embedding.embedding_weight', False),
             'positional_embedding': ('positional_embedding', False),
             'ln_final.gamma': ('ln_final.weight', False), 'ln_final.beta': ('ln_final.bias', False),
             'text_projection': ('text_projection', False), 'logit_scale': ('logit_scale', False)}
    for up_stack, our_stack, layers in (('visual.transformer.resblocks.', 'visual.transformer.layers.', vision_layers),
                                        ('transformer.resblocks.', 'transformer.layers.', text_layers)):
        for i in range(layers):
            up, ours = f'{up_stack}{i}.', f'{our_stack}{i}.'
            for norm, our_norm in (('ln_1', 'attention_norm'), ('ln_2', 'ffn_norm')):
                table[f'{up}{norm}.gamma'] = (f'{ours}{our_norm}.weight', False)
                table[f'{up}{norm}.beta'] = (f'{ours}{our_norm}.bias', False)
            for kind in ('weight', 'bias'):      # q, k and v fused along the first axis, in that order
                table[f'{up}attn.in_proj.{kind}'] = ([f'{ours}attention.{p}.{kind}' for p in ('wq', 'wk', 'wv')],
                                                     False)
                table[f'{up}attn.out_proj.{kind}'] = (f'{ours}attention.wo.{kind}', False)
                table[f'{up}mlp.c_fc.{kind}'] = (f'{ours}feed_forward.w1.{kind}', False)
                table[f'{up}mlp.c_proj.{kind}'] = (f'{ours}feed_forward.w2.{kind}', False)
    return table


VIT = dict(image_size=28, patch_size=7, num_channels=1, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
           intermediate_size=32)
SWIN = dict(image_size=28, patch_size=2, num_channels=1, embed_dim=8, depths=[2, 2], num_heads=[1, 2], window_size=7,
            num_labels=3, mlp_ratio=2)
CLIP = dict(text_config=dict(vocab_size=50, hidden_size=16, intermediate_size=32, num_hidden_layers=2,
                             num_attention_heads=2, max_position_embeddings=8),
            vision_config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2,
                               image_size=28, patch_size=7, num_channels=1),
            projection_dim=8, dtype='float32')
IMAGES = np.random.default_rng(2).standard_normal((2, 1, 28, 28)).astype(np.float32)
TEXT = np.random.default_rng(3).integers(1, 50, (3, 8)).astype(np.int32)


def outputs(model, family):
    model.set_train(False)
    image = ms.Tensor(IMAGES)
    if family == 'clip':
        return model(image, ms.Tensor(TEXT))[0].asnumpy()
    return model(image).asnumpy()


FAMILIES = {
    'vit': (lambda **kw: ViTForImageClassification(ViTConfig(num_labels=10, **VIT, **kw)), vit_table(2)),
    'mae': (lambda **kw: ViTMAEForPreTraining(ViTMAEConfig(decoder_hidden_size=8, decoder_num_hidden_layers=1,
                                                           decoder_num_attention_heads=2, decoder_intermediate_size=16,
                                                           **VIT, **kw)), mae_table(2, 1)),
    'swin': (lambda **kw: SwinForImageClassification(SwinConfig(**SWIN, **kw)), swin_table([2, 2])),
    'clip': (lambda **kw: CLIPModel(CLIPConfig(**CLIP, **kw)), clip_table(2, 2)),
}


def write_upstream_checkpoint(path, source, table, extra):
    entries = []
    for upstream_name, (ours, transposed) in table.items():
        value = np.concatenate([source[n] for n in ours]) if isinstance(ours, list) else source[ours]
        entries.append({'name': upstream_name, 'data': ms.Tensor(value.T.copy() if transposed else value)})
        entries.append({'name': 'adam_m.' + upstream_name, 'data': ms.Tensor(np.zeros_like(value))})
    entries.extend({'name': name, 'data': ms.Tensor(value)} for name, value in extra.items())
    ms.save_checkpoint(entries, str(path))
    return str(path)


@pytest.mark.parametrize('family', sorted(FAMILIES))
def test_upstream_named_checkpoint_loads_every_tensor_into_its_parameter(tmp_path, family):
    build, table = FAMILIES[family]
    ms.set_seed(0)
    source = build()
    rng = np.random.default_rng(4)
    for param in source.get_parameters():          # distinct values everywhere, so a misplaced tensor shows
        param.set_data(ms.Tensor((param.asnumpy() + rng.normal(0, 0.1, param.shape)).astype(np.float32)))
    expected = {p.name: p.asnumpy().copy() for p in source.get_parameters()}
    covered = {n for ours, _ in table.values() for n in (ours if isinstance(ours, list) else [ours])}
    assert covered == set(expected)                 # the table covers the whole model
    # upstream Swin saves its buffers as parameters: the relative position index and the shifted-window masks
    extra = {'encoder.layers.0.blocks.0.attn.relative_position_bias.relative_position_index':
             np.zeros((49, 49), np.int32),
             'encoder.layers.0.blocks.1.attn_mask': np.zeros((4, 49, 49), np.float32)} if family == 'swin' else {}
    path = write_upstream_checkpoint(tmp_path / 'upstream.ckpt', expected, table, extra)

    ms.set_seed(123)                                # a differently initialised model: every value comes from the file
    loaded = build(checkpoint_name_or_path=path)
    for param in loaded.get_parameters():
        np.testing.assert_array_equal(param.asnumpy(), expected[param.name], err_msg=param.name)
    if family != 'mae':                            # (MAE's forward masks at random; its weights are compared)
        np.testing.assert_array_equal(outputs(loaded, family), outputs(source, family))


def test_a_fused_tensor_that_does_not_split_evenly_is_one_line(tmp_path):
    from mindformers.tools.errors import CheckpointError  # pylint: disable=import-outside-toplevel
    build, table = FAMILIES['clip']
    source = {p.name: p.asnumpy() for p in build().get_parameters()}
    path = write_upstream_checkpoint(tmp_path / 'upstream.ckpt', source, table, {})
    entries = [{'name': name, 'data': value} for name, value in ms.load_checkpoint(path).items()]
    for entry in entries:
        if entry['name'] == 'transformer.resblocks.1.attn.in_proj.bias':
            entry['data'] = ms.Tensor(np.zeros(47, np.float32))
    ms.save_checkpoint(entries, path)
    with pytest.raises(CheckpointError, match=r"tensor 'transformer\.resblocks\.1\.attn\.in_proj\.bias' of shape "
                                              r"\(47,\) is 3 fused tensors"):
        build(checkpoint_name_or_path=path)
