// @ts-check
// The shapes that cross between Python and this folder, as JSDoc typedefs that TypeScript checks the
// modules against (`tsc -p scripts/jsconfig.json`, run by .ci/run). Python twin: emotion/contract.py,
// the same shapes as TypedDicts; tests/test_contract.py checks that both name the same keys and types.

/**
 * How BlazeFace's boxes map onto the Haar cascade's framing (emotion.detection.BoxFit).
 * @typedef {Object} FitSettings
 * @property {number} width
 * @property {number} height
 * @property {number} centreDown
 */

/**
 * BlazeFace short range's constants, as emotion.detection.blazeface uses them.
 * @typedef {Object} DetectorSettings
 * @property {number} inputSize
 * @property {number[]} strides
 * @property {number} anchorsPerLayer
 * @property {number} minScore
 * @property {number} rawScoreLimit
 * @property {number} suppressionIou
 * @property {FitSettings} fit
 * @property {number} fullEvery  emotion.detection.windows.FULL_EVERY: frames between two searches of the whole frame
 * @property {number} thumbnailSide  windows.THUMBNAIL: cells a side of the thumbnail that tells whether a face's pixels changed
 * @property {number} unchangedLevels  windows.UNCHANGED_LEVELS: how far a cell may move and the face still keep its box
 * @property {number} remember  windows.REMEMBER: searches a face that a search missed is remembered for (each frame searched)
 */

/**
 * The live FaceTracker's settings (emotion.tracking).
 * @typedef {Object} TrackerSettings
 * @property {number} window
 * @property {number} minIou
 * @property {number} maxMissed
 * @property {number} classifyEveryMs
 * @property {number} movedIou
 * @property {number} renewPerFrame
 */

/**
 * Everything pipeline.js and draw.js take (emotion.ondevice.browser_settings); they have no defaults of their own.
 * @typedef {Object} BrowserSettings
 * @property {Object<string, string>} files  role (litert, runtime, wasm, detector, emotion) -> path under /app/static/
 * @property {Object<string, string>} hashes  path -> sha256 (cache.js keeps files by content)
 * @property {string[]} emotions
 * @property {Object<string, string>} colours  emotion -> CSS colour
 * @property {number} inputSize
 * @property {DetectorSettings} detector
 * @property {TrackerSettings} tracker
 * @property {number} minFace
 * @property {number} maxFaces
 */

/**
 * @typedef {Object} FrameRate
 * @property {number} ideal
 */

/**
 * getUserMedia's video constraints.
 * @typedef {Object} CameraConstraints
 * @property {number} width
 * @property {number} height
 * @property {FrameRate} frameRate
 */

/**
 * The camera component's data (camera.js's `mount`).
 * @typedef {Object} CameraData
 * @property {BrowserSettings} settings
 * @property {CameraConstraints} camera
 * @property {number} reportEveryMs
 * @property {number} sampleEveryMs
 * @property {boolean} showProbabilities
 * @property {SendTo | null} sendTo  a class room's: the figures go there, not to the page
 */

/**
 * Where a class room's page posts its figures, and the seat they are for (the ids the page's address holds).
 * @typedef {Object} SendTo
 * @property {string} url  relative to the page's address
 * @property {string} room
 * @property {string} seat
 * @property {string | null} figures  a class-only room's sender id; null in a per-student room
 */

/**
 * @typedef {Object} FiguresSample
 * @property {number} at  Date.now() when taken, ms
 * @property {number[][]} faces  each face's smoothed probabilities, FER-2013 order
 */

/**
 * What reporter.js hands the page: the newest frame's figures and the samples since the last message.
 * @typedef {Object} FiguresMessage
 * @property {number[][]} faces
 * @property {number} skipped
 * @property {number | null} fps
 * @property {number | null} msMedian
 * @property {number} frames
 * @property {number} at  Date.now() when sent, ms: a new value means new figures
 * @property {FiguresSample[]} samples
 */

/**
 * Why the on-device camera stopped or falters, in plain words for the student.
 * @typedef {Object} Problem
 * @property {'camera' | 'runtime' | 'slow'} kind
 * @property {string} message
 */

/**
 * The body of a class room page's post to the figures endpoint (webapp/endpoints.py).
 * @typedef {Object} FiguresPost
 * @property {string} room
 * @property {string} seat
 * @property {string | null} figures
 * @property {FiguresMessage} message
 */

/**
 * The figures endpoint's answer: what became of the figures, and why in plain words where they were not kept.
 * @typedef {Object} FiguresReceipt
 * @property {'kept' | 'paused' | 'left' | 'ended' | 'unreachable' | 'refused' | 'too-soon'} outcome
 * @property {string} message
 */

/**
 * What a class room's camera hands its page (delivery.js): the room's latest answer, when it was heard.
 * @typedef {Object} FiguresAnswer
 * @property {'kept' | 'paused' | 'left' | 'ended' | 'unreachable' | 'refused' | 'too-soon'} outcome
 * @property {number} at  Date.now() when heard, ms: a new value means an answer to act on
 */

export {};
