"""Making the model: FER-2013 in, a trained Keras model, its LiteRT export and its model card out.

data          FER-2013 from the Kaggle zip, its folder, fer2013.csv or packed arrays
model         the networks (Keras)
augmentation  random changes to training faces (keras.ops: TensorFlow here, JAX on an accelerator)
train         `python -m emotion.training.train`: the training run, step by step
ensemble      `python -m emotion.training.ensemble`: several nets averaged in one model
accelerator   `python -m emotion.training.accelerator`: several runs at once on one lent GPU, in a time budget
reference     `python -m emotion.training.reference`: the fer package's model, to compare against
export        `python -m emotion.training.export`: the .tflite file the app serves
evaluate      `python -m emotion.training.evaluate`: a model file scored on a split
metrics       the figures, from labels (numpy)
report        `python -m emotion.training.report`: metrics.json, plots and the model card
artifacts     the names of the files a run writes

Only this layer imports TensorFlow and Keras; the app serves the .tflite file through LiteRT.
"""
