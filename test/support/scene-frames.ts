/**
 * Frames of the demo camera's scripted scene (src/sim/scene.ts), rendered and encoded here
 * without a camera and without waiting: tests feed them to the motion detector faster than
 * real time and compare with sceneAt(), the truth.
 */
import { JpegEncoder } from '../../src/jpeg/encoder';
import { TestPattern } from '../../src/sim/test-pattern';
import { Scene, type SceneOptions } from '../../src/sim/scene';

/** the clock and frame counter band of the test pattern (it changes every frame) */
export const TEXT_BAND = { x: 0, y: 0.66, w: 1, h: 0.34 };

export class SceneFrames {
  private readonly enc: JpegEncoder;
  private readonly planes: ReturnType<JpegEncoder['allocPlanes']>;
  private readonly pattern: TestPattern;
  private index = 0;

  constructor(readonly width = 320, readonly height = 240, readonly opts: SceneOptions = {}, quality = 80) {
    this.enc = new JpegEncoder({ width, height, subsampling: '420', quality });
    this.planes = this.enc.allocPlanes();
    this.pattern = new TestPattern(width, height, this.planes, new Scene(width, height, opts, 0));
  }

  /** the JPEG at `tMs` of scene time */
  at(tMs: number): Buffer {
    this.pattern.render(this.planes, this.index++, tMs);
    return this.enc.encode(this.planes);
  }
}
