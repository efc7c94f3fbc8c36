from facestyle.models.discriminator import Discriminator
from facestyle.models.srresnet import SRResNet, SRResNetConfig

__all__ = ["SRResNet", "SRResNetConfig", "Discriminator"]
