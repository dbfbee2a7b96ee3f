// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {UUPSUpgradeable} from "@openzeppelin/contracts/proxy/utils/UUPSUpgradeable.sol";
import {ERC1967Proxy} from "@openzeppelin/contracts/proxy/ERC1967/ERC1967Proxy.sol";

/// Fixture for key-compromise drills: a UUPS-upgradeable treasury behind an
/// ERC-1967 proxy. DEFAULT_ADMIN_ROLE grants roles; only UPGRADER_ROLE may
/// upgrade, so a stolen admin key must first grant itself that role.
contract UpgradeableTreasury is AccessControl, Initializable, UUPSUpgradeable {
    bytes32 public constant UPGRADER_ROLE = keccak256("UPGRADER_ROLE");

    constructor() {
        _disableInitializers();
    }

    function initialize(address admin) external initializer {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// 1 for this implementation.
    function version() external pure virtual returns (uint256) {
        return 1;
    }

    function _authorizeUpgrade(address) internal override onlyRole(UPGRADER_ROLE) {}
}

/// What an attacker upgrades the treasury to (version 666).
contract MaliciousTreasury is UpgradeableTreasury {
    function version() external pure override returns (uint256) {
        return 666;
    }
}

/// The treasury's proxy: `ERC1967Proxy(implementation, initializer call)`.
contract TreasuryProxy is ERC1967Proxy {
    constructor(address implementation, bytes memory data) ERC1967Proxy(implementation, data) {}
}
