"""Package data: the pretrained model files that ``skdae.pretrained`` loads by name."""
