"""The baseline we measure against: the CNN and live loop of the widely copied Emojify seed scripts."""
import cv2
import numpy as np

from emojify.emotions import NUM_CLASSES


def build_seed_model():
    """Conv32-Conv64-Pool-Conv128-Pool-Conv128-Pool-Dense1024, as in the seed scripts (Adam)."""
    import keras
    from keras import layers
    model = keras.Sequential([
        keras.Input((48, 48, 1)),
        layers.Rescaling(1.0 / 255),
        layers.Conv2D(32, 3, activation="relu"),
        layers.Conv2D(64, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Dropout(0.25),
        layers.Conv2D(128, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(128, 3, activation="relu"),
        layers.MaxPooling2D(),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(1024, activation="relu"),
        layers.Dropout(0.5),
        layers.Dense(NUM_CLASSES, activation="softmax"),
    ], name="seed_cnn")
    model.compile(optimizer=keras.optimizers.Adam(1e-4), loss="categorical_crossentropy", metrics=["accuracy"])
    return model


class SeedLoop:
    """One frame of the seeds' live loop: Haar at scaleFactor 1.3 on the full frame, model.predict per
    face, boxes and labels drawn, then a cubic resize of the frame for display."""

    def __init__(self, model, cascade_path):
        self.model = model
        self.cascade = cv2.CascadeClassifier(str(cascade_path))

    def __call__(self, frame):
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        faces = self.cascade.detectMultiScale(gray, scaleFactor=1.3, minNeighbors=5)
        for (x, y, w, h) in faces:
            cv2.rectangle(frame, (x, y - 50), (x + w, y + h + 10), (255, 0, 0), 2)
            crop = np.expand_dims(np.expand_dims(cv2.resize(gray[y:y + h, x:x + w], (48, 48)), -1), 0)
            prediction = self.model.predict(crop, verbose=0)
            cv2.putText(frame, str(int(np.argmax(prediction))), (x + 20, y - 60), cv2.FONT_HERSHEY_SIMPLEX, 1,
                        (255, 255, 255), 2, cv2.LINE_AA)
        return cv2.resize(frame, (1200, 860), interpolation=cv2.INTER_CUBIC), len(faces)
