"""What every part shares: config composition, the command-line start, errors, the image contract, remote files."""
