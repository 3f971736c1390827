"""Audio in and out: device, WAV and stdin sources, sinks, resampling, the stream clock, the echo gate and canceller."""
