"""Data: one module per source (synthetic, folder, skillbox, ferplus), the shared containers, splits and file
checks, the tf.data pipeline and its augmentation."""
