#!/usr/bin/env python3
# Runs a test (the arguments) under an X server of its own: Xvfb picks a free display number
# itself and says which (-displayfd), so that several tests can run at once; xvfb-run -a
# guesses one and two started together may pick the same. The server goes with the test.
import os
import subprocess
import sys


def main():
    if len(sys.argv) < 2:
        sys.exit('usage: with-xvfb.py PROGRAM [ARGS...]')
    read_end, write_end = os.pipe()
    xvfb = subprocess.Popen(
        ['Xvfb', '-displayfd', str(write_end), '-screen', '0', '1280x800x24', '-nolisten', 'tcp'],
        pass_fds=(write_end,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_end)
    try:
        number = b''
        while not number.endswith(b'\n'):
            chunk = os.read(read_end, 16)
            if not chunk:
                sys.exit('Xvfb did not start (exit status %s): is the xvfb package installed?'
                         % xvfb.wait())
            number += chunk
        env = dict(os.environ, DISPLAY=':' + number.decode().strip())
        return subprocess.call(sys.argv[1:], env=env)
    finally:
        os.close(read_end)
        xvfb.terminate()
        xvfb.wait()


if __name__ == '__main__':
    sys.exit(main())
