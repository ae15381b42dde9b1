"""The seven FER-2013 emotions, their names, colours and emoji: `emojify.emotions`, where the package keeps them
so that an installed Emojify has them too. `import emotions` from this folder gives the same objects."""
from emojify.emotions import *  # noqa: F401,F403
from emojify.emotions import __all__  # noqa: F401
