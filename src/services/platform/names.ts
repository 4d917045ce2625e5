import { randomInt } from 'node:crypto';

const ADJECTIVES = ['Amber', 'Brave', 'Calm', 'Clever', 'Curious', 'Eager', 'Gentle', 'Happy', 'Keen', 'Lucid', 'Nimble', 'Quiet', 'Rapid', 'Sunny', 'Swift', 'Witty'];
const NOUNS = ['Badger', 'Comet', 'Falcon', 'Fern', 'Harbor', 'Lynx', 'Maple', 'Meadow', 'Otter', 'Pebble', 'Raven', 'River', 'Sparrow', 'Summit', 'Tiger', 'Willow'];

/** Letta's default: a random AdjectiveNoun. */
export function randomAgentName(): string {
  return `${ADJECTIVES[randomInt(ADJECTIVES.length)]}${NOUNS[randomInt(NOUNS.length)]}`;
}
