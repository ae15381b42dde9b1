"""The Emojify CNN, a Keras Sequential model for 48x48 grayscale faces: `emojify.model`, where the package keeps
it so that an installed `emojify-train` builds it too. `import model` from this folder gives the same objects."""
from emojify.model import *  # noqa: F401,F403
from emojify.model import __all__  # noqa: F401
