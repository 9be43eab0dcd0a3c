"""The files a training run writes to its --out folder (model/ for the bundled model).

Kept apart from train.py so that what only reads them (the model card, the app) imports no TensorFlow.
"""

MODEL_FILE = "emotion_cnn.keras"
TFLITE_FILE = "emotion_cnn.tflite"
LOG_FILE = "training_log.csv"
CONFIG_FILE = "training_config.json"
METRICS_FILE = "metrics.json"
COMPARISONS_FILE = "comparisons.json"  # figures the card quotes that evaluation does not produce
LATENCY_FILE = "latency.json"  # ms a face of each model, recorded by bench/model_latency.py
