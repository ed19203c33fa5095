"""The frame of a lab test class that uses virtual media: the suite's lab
(or a private one) with a server running, a random tag for the class's
image names, and on the way out the medium ejected, the class's images
removed and the suite's lab handed on with the firmware's shell."""
import os
import random
import unittest

import lab as labmod


class LabMediaCase(unittest.TestCase):
    lab = None
    server = "uefi"  # the mode a private lab boots its server in

    @classmethod
    def setUpClass(cls):
        cls.lab = labmod.Lab.for_test(server=cls.server)
        if not cls.lab.running("server"):
            cls.lab.start_server(cls.server)
        cls.tag = "%06x" % random.randrange(1 << 24)

    @classmethod
    def tearDownClass(cls):
        lab = cls.lab
        if not lab:
            return
        try:
            lab.cmd("media", {"image": "eject"}, timeout=30)
        except labmod.LabError:
            pass
        images = os.path.join(lab.share, "images")
        for name in os.listdir(images):
            if cls.tag in name:
                os.unlink(os.path.join(images, name))
        if lab.owner:
            lab.stop()
            return
        # The suite's other tests expect the firmware's shell.
        try:
            lab.ensure_server("uefi")
        except labmod.LabError:
            pass
        lab.close_clients()
