from facestyle.models.srresnet import SRResNet, SRResNetConfig
from facestyle.models.discriminator import Discriminator

__all__ = ["SRResNet", "SRResNetConfig", "Discriminator"]
