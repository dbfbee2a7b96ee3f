// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

// A Chainlink-style price feed for tests: the answer is set by anyone, and
// read with latestRoundData() at any block (the recovery ledger prices a
// return at the block before it).
contract MockPriceFeed {
    uint8 public immutable decimals;
    int256 private answer;
    uint80 private round;

    constructor(uint8 decimals_, int256 answer_) {
        decimals = decimals_;
        answer = answer_;
        round = 1;
    }

    function setAnswer(int256 answer_) external {
        answer = answer_;
        round += 1;
    }

    function latestRoundData()
        external
        view
        returns (uint80 roundId, int256, uint256 startedAt, uint256 updatedAt, uint80 answeredInRound)
    {
        return (round, answer, block.timestamp, block.timestamp, round);
    }
}
