"""The studio's model card (model.json next to model.onnx), written the same way by every export tool.

The fields and their meaning are those of src/engine/priors/modelCard.ts: the engine validates the
card against the ONNX graph when it loads the model.
"""
import json
import os

# The linear VP schedule every bundled and converted prior uses (DDPM: T = 1000, beta 1e-4 .. 0.02).
LINEAR_SCHEDULE = {'kind': 'linear', 'T': 1000, 'betaMin': 0.0001, 'betaMax': 0.02}


def write_model_card(out_dir, *, name, description, dataset, license, training, channels, height, width,
                     parameterization='eps', prediction='eps', schedule=None, learned_variance=False):
    """Writes out_dir/model.json for a network with inputs x [N, C, H, W] in [-1, 1] and integer t [N].

    prediction is the name of the network's output tensor; parameterization says what it predicts
    (eps, x0 or v). learned_variance declares an output of 2C channels (ADM learn_sigma: the
    prediction, then the variance interpolation); the engine refuses any other channel count than
    the card's. Returns the card as a dict.
    """
    card = {
        'format': 'lagrange-model', 'version': 1, 'name': name,
        'description': description,
        'dataset': dataset,
        'license': license,
        'training': training,
        'image': {'channels': channels, 'height': height, 'width': width, 'range': [-1, 1]},
        'parameterization': parameterization,
        'schedule': dict(schedule or LINEAR_SCHEDULE),
        'inputs': {'x': 'x', 't': 't'},
        'outputs': {'prediction': prediction, **({'learnedVariance': True} if learned_variance else {})},
        'timestep': {'dtype': 'int64', 'scale': 1},
        'files': {'model': 'model.onnx'},
    }
    with open(os.path.join(out_dir, 'model.json'), 'w') as f:
        json.dump(card, f, indent=2)
        f.write('\n')
    return card
