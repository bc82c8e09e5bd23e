import { describe, expect, it } from "vitest";

import { elapsedSeconds, formatDuration, spokenDuration } from "./duration";

describe("running time", () => {
  it("counts whole seconds from the server's start time", () => {
    expect(elapsedSeconds(1_000, 1_000_000)).toBe(0);
    expect(elapsedSeconds(1_000.25, 1_065_900)).toBe(65);
  });

  it("is never negative when this clock is behind the server's", () => {
    expect(elapsedSeconds(2_000, 1_999_000)).toBe(0);
  });

  it("reads m:ss under an hour and h:mm:ss from then on", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(5)).toBe("0:05");
    expect(formatDuration(65)).toBe("1:05");
    expect(formatDuration(3599)).toBe("59:59");
    expect(formatDuration(3600)).toBe("1:00:00");
    expect(formatDuration(7263)).toBe("2:01:03");
    expect(formatDuration(-3)).toBe("0:00");
  });

  it("has a spoken form for screen readers", () => {
    expect(spokenDuration(4)).toBe("4 s");
    expect(spokenDuration(65)).toBe("1 min 5 s");
    expect(spokenDuration(7203)).toBe("2 h 0 min 3 s");
  });
});
