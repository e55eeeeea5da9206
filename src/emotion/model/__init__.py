"""The emotion model: backbones, their pretrained weights, the preprocessing layer, heads, and their assembly."""
