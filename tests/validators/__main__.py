"""python -m tests.validators INVOICE.pdf|INVOICE.xml ...: the e-invoice validators on files of one's own."""

import sys

from tests.validators.toolkit import main

sys.exit(main(sys.argv[1:]))
