// The alert sound: a short beep made with WebAudio (no audio file to load or to block).
// Browsers only allow sound after a user gesture, so the page calls unlock() on sign-in and
// on key presses.
export class Alarm {
  constructor() {
    this.enabled = true;
    this.context = null;
  }

  unlock() {
    const AudioContext = globalThis.AudioContext || globalThis.webkitAudioContext;
    if (!AudioContext) return;
    if (!this.context) this.context = new AudioContext();
    if (this.context.state === "suspended") this.context.resume().catch(() => {});
  }

  /** `count` beeps of 880 Hz, 0.18 s each. */
  beep(count = 2) {
    if (!this.enabled || !this.context || this.context.state !== "running") return;
    const start = this.context.currentTime;
    for (let i = 0; i < count; i++) {
      const at = start + i * 0.3;
      const osc = this.context.createOscillator();
      const gain = this.context.createGain();
      osc.type = "square";
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, at);
      gain.gain.exponentialRampToValueAtTime(0.25, at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, at + 0.18);
      osc.connect(gain).connect(this.context.destination);
      osc.start(at);
      osc.stop(at + 0.2);
    }
  }
}
